// torchtrt_example: runs a model saved by torch_tensorrt from C++, with no Python interpreter in the process.
//
//   torchtrt_example MODEL INPUTS [--device cpu|cuda|cuda:N] [--repeat N]
//
// MODEL is a TorchScript file (torch_tensorrt.save(..., output_format="torchscript")) or an AOTInductor package
// (output_format="aot_inductor", a .pt2). INPUTS is a file written by Python's torch.save() holding a tensor or a
// list/tuple of tensors (read with torch::pickle_load). The outputs are printed one per line:
//
//   output 0: float32 [2, 4] = 1 2 3 4 5 6 7 8
//
// libtorchtrt_runtime.so provides torch.classes.tensorrt.Engine and tensorrt::execute_engine, which the saved
// TensorRT engines run through; linking it (torchtrt::runtime) and calling torchtrt::runtime_info() is all the
// setup there is. With --repeat N the model also runs N more times and the mean time per call is printed.
#include <torch/cuda.h>
#include <torch/csrc/inductor/aoti_package/model_package_loader.h>
#include <torch/script.h>
#include <torch/serialize.h>

#include <torchtrt/torchtrt.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct Args {
  std::string model;
  std::string inputs;
  std::string device;
  int repeat = 0;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "error: " << why << "\nusage: torchtrt_example MODEL INPUTS [--device cpu|cuda|cuda:N] [--repeat N]\n";
  std::exit(2);
}

Args parse(int argc, char** argv) {
  Args a;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--device" || arg == "--repeat") && i + 1 < argc) {
      if (arg == "--device") a.device = argv[++i];
      else a.repeat = std::stoi(argv[++i]);
    } else if (arg.rfind("--", 0) == 0) {
      usage("unknown option " + arg);
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() != 2) usage("expected MODEL and INPUTS");
  a.model = positional[0];
  a.inputs = positional[1];
  return a;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<at::Tensor> load_inputs(const std::string& path, const c10::Device& device) {
  std::ifstream in(path, std::ios::binary);
  if (!in) usage("cannot read " + path);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const c10::IValue value = torch::pickle_load(bytes);
  std::vector<at::Tensor> tensors;
  if (value.isTensor()) {
    tensors.push_back(value.toTensor());
  } else if (value.isList()) {
    for (const c10::IValue& v : value.toListRef()) tensors.push_back(v.toTensor());
  } else if (value.isTuple()) {
    for (const c10::IValue& v : value.toTupleRef().elements()) tensors.push_back(v.toTensor());
  } else {
    usage(path + " holds a " + value.tagKind() + ", not a tensor or a list of tensors");
  }
  for (auto& t : tensors) t = t.to(device);
  return tensors;
}

void flatten(const c10::IValue& v, std::vector<at::Tensor>* out) {
  if (v.isTensor()) out->push_back(v.toTensor());
  else if (v.isTuple())
    for (const auto& e : v.toTupleRef().elements()) flatten(e, out);
  else if (v.isList())
    for (const auto& e : v.toListRef()) flatten(e, out);
  else
    throw std::runtime_error("the model returned a " + v.tagKind() + ", not tensors");
}

//! A loaded model: TorchScript or AOTInductor, behind one call.
class Model {
 public:
  Model(const std::string& path, const c10::Device& device) {
    if (ends_with(path, ".pt2")) {
      // The package runs on the device it was compiled for; --device moves the inputs there.
      aoti_ = std::make_unique<torch::inductor::AOTIModelPackageLoader>(path);
      kind_ = "AOTInductor package";
    } else {
      script_ = torch::jit::load(path, device);
      script_.eval();
      kind_ = "TorchScript module";
    }
  }
  const std::string& kind() const { return kind_; }
  std::vector<at::Tensor> operator()(const std::vector<at::Tensor>& inputs) {
    if (aoti_) return aoti_->run(inputs);
    std::vector<c10::IValue> args(inputs.begin(), inputs.end());
    std::vector<at::Tensor> out;
    flatten(script_.forward(args), &out);
    return out;
  }

 private:
  std::unique_ptr<torch::inductor::AOTIModelPackageLoader> aoti_;
  torch::jit::Module script_;
  std::string kind_;
};

std::string dtype_name(at::ScalarType t) { return std::string(c10::getDtypeNames(t).first); }

void print(const std::vector<at::Tensor>& outputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const at::Tensor t = outputs[i].detach().to(at::kCPU).contiguous();
    std::ostringstream line;
    line << "output " << i << ": " << dtype_name(t.scalar_type()) << " " << t.sizes() << " =";
    const at::Tensor flat = t.to(at::kDouble).reshape({-1});
    const double* v = flat.data_ptr<double>();
    for (int64_t k = 0; k < flat.numel(); ++k) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), " %.9g", v[k]);
      line << buf;
    }
    std::cout << line.str() << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  const torchtrt::RuntimeInfo info = torchtrt::runtime_info();  // also keeps libtorchtrt_runtime linked
  const c10::Device device(args.device.empty() ? (torch::cuda::is_available() ? "cuda" : "cpu") : args.device);
  std::cout << "torchtrt runtime: " << info.flavour << ", TensorRT " << info.tensorrt_version << ", record ABI "
            << info.abi_version << ", " << info.platform << "; device " << device << std::endl;
  try {
    c10::InferenceMode no_grad;
    Model model(args.model, device);
    const std::vector<at::Tensor> inputs = load_inputs(args.inputs, device);
    std::cout << "loaded " << model.kind() << " " << args.model << " and " << inputs.size() << " input(s)" << std::endl;
    const std::vector<at::Tensor> outputs = model(inputs);
    print(outputs);
    if (args.repeat > 0) {
      if (device.is_cuda()) torch::cuda::synchronize();
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; i < args.repeat; ++i) model(inputs);
      if (device.is_cuda()) torch::cuda::synchronize();
      const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
      std::cout << "mean " << us / args.repeat << " us per call over " << args.repeat << " calls" << std::endl;
    }
  } catch (const c10::Error& e) {  // torch's and the runtime's errors: the message without the C++ backtrace
    std::cerr << "error: " << e.what_without_backtrace() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
