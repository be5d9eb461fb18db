// edgeav_et_runner: time a .pte on a device and write an ETDump of every execution.
//
//   edgeav_et_runner MODEL.pte --threads N --warmup W --runs R [--etdump OUT.etdump] [--output OUT.bin] IN0.bin [IN1.bin ...]
//
// Inputs are raw little-endian float32 files in the method's input order, shaped by the program's own
// input metadata. Output protocol (parsed by bench/devices/adb.py), one fact per line on stdout:
//   edgeav_runner threads N
//   edgeav_runner load_ms X
//   edgeav_runner run_ms I X        (timed runs only; warm-ups are executed but not printed)
//   edgeav_runner etdump PATH
// Errors go to stderr with exit code 1. Built against the ExecuTorch C++ SDK (CMakeLists.txt here).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <executorch/devtools/etdump/etdump_flatcc.h>
#include <executorch/extension/module/module.h>
#include <executorch/extension/tensor/tensor.h>

// The wheel ships libexecutorch_threadpool.so but not its header; these are its two entry points.
namespace executorch::extension::threadpool {
class ThreadPool {
 public:
  bool _unsafe_reset_threadpool(uint32_t num_threads);
};
ThreadPool* get_threadpool();
}  // namespace executorch::extension::threadpool

using executorch::extension::Module;
using executorch::runtime::EValue;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string model, etdump, output;
  std::vector<std::string> inputs;
  int threads = 1, warmup = 5, runs = 50;
};

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "edgeav_runner: error: %s\n", what.c_str());
  std::exit(1);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) fail("missing value after " + a);
      return argv[++i];
    };
    if (a == "--threads") o.threads = std::atoi(value().c_str());
    else if (a == "--warmup") o.warmup = std::atoi(value().c_str());
    else if (a == "--runs") o.runs = std::atoi(value().c_str());
    else if (a == "--etdump") o.etdump = value();
    else if (a == "--output") o.output = value();
    else if (o.model.empty()) o.model = a;
    else o.inputs.push_back(a);
  }
  if (o.model.empty()) fail("usage: edgeav_et_runner MODEL.pte [--threads N] [--warmup W] [--runs R] [--etdump F] IN.bin...");
  if (o.threads < 1 || o.runs < 1 || o.warmup < 0) fail("--threads and --runs must be >= 1, --warmup >= 0");
  return o;
}

std::vector<float> read_floats(const std::string& path, size_t count) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open input " + path);
  std::vector<float> data(count);
  in.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(count * sizeof(float)));
  if (static_cast<size_t>(in.gcount()) != count * sizeof(float))
    fail(path + " has fewer than " + std::to_string(count) + " float32 values");
  return data;
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  executorch::extension::threadpool::get_threadpool()->_unsafe_reset_threadpool(o.threads);
  std::printf("edgeav_runner threads %d\n", o.threads);

  auto start = Clock::now();
  Module module(o.model, Module::LoadMode::MmapUseMlock, std::make_unique<executorch::etdump::ETDumpGen>());
  if (module.load_forward() != executorch::runtime::Error::Ok) fail("cannot load method 'forward' of " + o.model);
  std::printf("edgeav_runner load_ms %.4f\n", ms_since(start));

  auto meta = module.method_meta("forward");
  if (!meta.ok()) fail("no method metadata");
  if (meta->num_inputs() != o.inputs.size())
    fail("the program takes " + std::to_string(meta->num_inputs()) + " inputs, got " + std::to_string(o.inputs.size()));
  std::vector<executorch::extension::TensorPtr> tensors;
  std::vector<EValue> inputs;
  for (size_t i = 0; i < o.inputs.size(); ++i) {
    auto info = meta->input_tensor_meta(i);
    if (!info.ok()) fail("input " + std::to_string(i) + " is not a tensor");
    std::vector<executorch::aten::SizesType> sizes(info->sizes().begin(), info->sizes().end());
    size_t count = 1;
    for (auto s : sizes) count *= static_cast<size_t>(s);
    tensors.push_back(executorch::extension::make_tensor_ptr(sizes, read_floats(o.inputs[i], count)));
    inputs.emplace_back(*tensors.back());
  }

  for (int i = 0; i < o.warmup + o.runs; ++i) {
    start = Clock::now();
    auto result = module.forward(inputs);
    const double ms = ms_since(start);
    if (!result.ok()) fail("execution " + std::to_string(i) + " failed");
    if (i >= o.warmup) std::printf("edgeav_runner run_ms %d %.4f\n", i - o.warmup, ms);
    if (i + 1 == o.warmup + o.runs && !o.output.empty()) {
      const auto& out = result->at(0).toTensor();
      std::ofstream f(o.output, std::ios::binary);
      f.write(static_cast<const char*>(out.const_data_ptr()), static_cast<std::streamsize>(out.nbytes()));
    }
  }

  if (!o.etdump.empty()) {
    auto* gen = static_cast<executorch::etdump::ETDumpGen*>(module.event_tracer());
    auto dump = gen->get_etdump_data();
    if (dump.buf == nullptr || dump.size == 0) fail("the runtime recorded no ETDump events (built without ET_EVENT_TRACER_ENABLED?)");
    std::ofstream f(o.etdump, std::ios::binary);
    f.write(static_cast<const char*>(dump.buf), static_cast<std::streamsize>(dump.size));
    std::free(dump.buf);
    std::printf("edgeav_runner etdump %s\n", o.etdump.c_str());
  }
  return 0;
}
