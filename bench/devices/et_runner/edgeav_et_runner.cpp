// edgeav_et_runner: time a .pte on a device and write an ETDump of every execution.
//
//   edgeav_et_runner MODEL.pte --threads N --warmup W --runs R [--etdump OUT.etdump] [--output OUT.bin]
//                    [--markers] IN0.bin [IN1.bin ...]
//
// Inputs are raw little-endian float32 files in the method's input order, shaped by the program's own
// input metadata. --output writes the last run's output 0 to OUT.bin and output i >= 1 to OUT.bin.<i>
// (raw bytes of each tensor). Output protocol (parsed by bench/devices/), one fact per line on stdout:
//   edgeav_runner threads N
//   edgeav_runner load_ms X
//   edgeav_runner run_ms I X        (timed runs only; warm-ups are executed but not printed)
//   edgeav_runner event NAME        (--markers: one per profiled event, in the order the events ended)
//   edgeav_runner etdump PATH
// --markers is for the instruction-counting qemu plugin (bench/devices/arm/plugin/edgeav_insns.c):
// close(0x7e01) / close(0x7e02) bracket the timed runs, and every profiled event is a region
// (close(0x7e10) at its start, close(0x7e11) at its end). Nothing is printed between the markers, so the
// counts hold only the runs. Errors go to stderr with exit code 1. Built against the ExecuTorch C++ SDK
// (CMakeLists.txt here; aarch64-linux-gnu.cmake to cross-build).
#include <unistd.h>

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

// close() on descriptors nobody opened: EBADF in the guest, a marker for the plugin.
constexpr int kMarkStart = 0x7e01, kMarkEnd = 0x7e02, kRegionPush = 0x7e10, kRegionPop = 0x7e11;
void mark(int fd) { (void)close(fd); }

// ETDumpGen that also brackets each profiled event for the plugin and remembers the names in end order
// (printed after the runs: printing inside would count the printing). Names point into the loaded
// program, which outlives the runs.
class MarkingETDumpGen : public executorch::etdump::ETDumpGen {
 public:
  MarkingETDumpGen() {
    names_.reserve(64);
    ended_.reserve(1 << 16);
  }
  executorch::runtime::EventTracerEntry start_profiling(const char* name, executorch::runtime::ChainID chain_id,
                                                        executorch::runtime::DebugHandle debug_handle) override {
    names_.push_back(name);
    mark(kRegionPush);
    return ETDumpGen::start_profiling(name, chain_id, debug_handle);
  }
  void end_profiling(executorch::runtime::EventTracerEntry entry) override {
    ETDumpGen::end_profiling(entry);
    mark(kRegionPop);
    ended_.push_back(names_.empty() ? "?" : names_.back());
    if (!names_.empty()) names_.pop_back();
  }
  const std::vector<const char*>& ended() const { return ended_; }

 private:
  std::vector<const char*> names_, ended_;
};

struct Options {
  std::string model, etdump, output;
  std::vector<std::string> inputs;
  int threads = 1, warmup = 5, runs = 50;
  bool markers = false;
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
    else if (a == "--markers") o.markers = true;
    else if (o.model.empty()) o.model = a;
    else o.inputs.push_back(a);
  }
  if (o.model.empty())
    fail("usage: edgeav_et_runner MODEL.pte [--threads N] [--warmup W] [--runs R] [--etdump F] [--output F] [--markers] IN.bin...");
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

void write_outputs(const std::string& path, const std::vector<EValue>& outputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].isTensor()) continue;
    const auto& out = outputs[i].toTensor();
    std::ofstream f(i == 0 ? path : path + "." + std::to_string(i), std::ios::binary);
    f.write(static_cast<const char*>(out.const_data_ptr()), static_cast<std::streamsize>(out.nbytes()));
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  executorch::extension::threadpool::get_threadpool()->_unsafe_reset_threadpool(o.threads);
  std::printf("edgeav_runner threads %d\n", o.threads);

  auto start = Clock::now();
  std::unique_ptr<executorch::etdump::ETDumpGen> tracer;
  if (o.markers) tracer = std::make_unique<MarkingETDumpGen>();
  else tracer = std::make_unique<executorch::etdump::ETDumpGen>();
  Module module(o.model, Module::LoadMode::MmapUseMlock, std::move(tracer));
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

  std::vector<double> run_ms;
  run_ms.reserve(static_cast<size_t>(o.runs));
  for (int i = 0; i < o.warmup + o.runs; ++i) {
    if (i == o.warmup && o.markers) mark(kMarkStart);
    start = Clock::now();
    auto result = module.forward(inputs);
    const double ms = ms_since(start);
    if (!result.ok()) fail("execution " + std::to_string(i) + " failed");
    if (i >= o.warmup) run_ms.push_back(ms);
    if (i + 1 == o.warmup + o.runs) {
      if (o.markers) mark(kMarkEnd);
      if (!o.output.empty()) write_outputs(o.output, *result);
    }
  }
  for (size_t i = 0; i < run_ms.size(); ++i) std::printf("edgeav_runner run_ms %zu %.4f\n", i, run_ms[i]);
  if (o.markers)
    for (const char* name : static_cast<MarkingETDumpGen*>(module.event_tracer())->ended())
      std::printf("edgeav_runner event %s\n", name ? name : "?");

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
