// A tiny gtest-free test runner for tests/cpp: TEST(name) { ... } registers a case; EXPECT(cond),
// EXPECT_EQ(a, b) and EXPECT_THROWS_WITH(stmt, "substring") record failures; main() runs every case and
// returns non-zero if any failed (ctest reads the exit code).
#pragma once

#include <exception>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace mini_test {

struct Case {
  const char* name;
  std::function<void()> fn;
};

inline std::vector<Case>& cases() {
  static std::vector<Case> all;
  return all;
}
inline int& failures() {
  static int n = 0;
  return n;
}
struct Register {
  Register(const char* name, std::function<void()> fn) { cases().push_back({name, std::move(fn)}); }
};

inline void fail(const char* file, int line, const std::string& what) {
  ++failures();
  std::cerr << file << ":" << line << ": FAILED: " << what << "\n";
}

inline int run_all() {
  int failed_cases = 0;
  for (const auto& c : cases()) {
    const int before = failures();
    try {
      c.fn();
    } catch (const std::exception& e) {
      fail(c.name, 0, std::string("unexpected exception: ") + e.what());
    }
    const bool ok = failures() == before;
    failed_cases += !ok;
    std::cout << (ok ? "[ OK ] " : "[FAIL] ") << c.name << "\n";
  }
  std::cout << cases().size() - failed_cases << "/" << cases().size() << " cases passed\n";
  return failed_cases ? 1 : 0;
}

}  // namespace mini_test

#define MT_CONCAT2(a, b) a##b
#define MT_CONCAT(a, b) MT_CONCAT2(a, b)
#define TEST(name)                                                             \
  static void name();                                                          \
  static ::mini_test::Register MT_CONCAT(mt_register_, name)(#name, &name);    \
  static void name()

#define EXPECT(cond)                                                            \
  do {                                                                         \
    if (!(cond)) ::mini_test::fail(__FILE__, __LINE__, "EXPECT(" #cond ")");    \
  } while (0)

#define EXPECT_EQ(a, b)                                                         \
  do {                                                                         \
    const auto& mt_a = (a);                                                    \
    const auto& mt_b = (b);                                                    \
    if (!(mt_a == mt_b)) {                                                     \
      std::ostringstream mt_os;                                                \
      mt_os << "EXPECT_EQ(" #a ", " #b "): " << mt_a << " != " << mt_b;         \
      ::mini_test::fail(__FILE__, __LINE__, mt_os.str());                      \
    }                                                                          \
  } while (0)

#define EXPECT_THROWS_WITH(stmt, substring)                                     \
  do {                                                                         \
    bool mt_threw = false;                                                     \
    try {                                                                      \
      static_cast<void>(stmt);                                                 \
    } catch (const std::exception& mt_e) {                                     \
      mt_threw = true;                                                         \
      const std::string mt_msg = mt_e.what();                                  \
      if (mt_msg.find(substring) == std::string::npos)                         \
        ::mini_test::fail(__FILE__, __LINE__,                                  \
                          std::string("message of " #stmt " lacks '") +        \
                              (substring) + "': " + mt_msg);                   \
    }                                                                          \
    if (!mt_threw) ::mini_test::fail(__FILE__, __LINE__, #stmt " did not throw"); \
  } while (0)

#define MINI_TEST_MAIN()                                                       \
  int main() { return ::mini_test::run_all(); }
