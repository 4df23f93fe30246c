// Prints the version of a TensorRT library (argv[1]) as MAJOR.MINOR.PATCH, from its documented
// getInferLibVersion() (MAJOR * 10000 + MINOR * 100 + PATCH). Run at configure time by
// cmake/FindTensorRTSDK.cmake; loads the library with dlopen, so nothing is linked.
#include <dlfcn.h>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  void* lib = dlopen(argv[1], RTLD_LAZY | RTLD_LOCAL);
  if (!lib) {
    fprintf(stderr, "%s\n", dlerror());
    return 3;
  }
  typedef int (*version_fn)(void);
  version_fn fn = (version_fn)dlsym(lib, "getInferLibVersion");
  if (!fn) {
    fprintf(stderr, "no getInferLibVersion in %s\n", argv[1]);
    return 4;
  }
  const int v = fn();
  printf("%d.%d.%d\n", v / 10000, v / 100 % 100, v % 100);
  return 0;
}
