/* edgeav_insns: a QEMU TCG plugin that counts guest instructions and reports them at markers.
 *
 * Built at setup time (bench/devices/arm/builds.py) against qemu-plugin.h from Debian's qemu source,
 * which is not part of this repository. Counting is an inline add per translated block (no callback per
 * instruction), so a run costs about what it costs without the plugin. Markers are close() system calls
 * on file descriptors nobody opens (they fail with EBADF and change nothing in the guest):
 *   close(0x7e00 + n), n < 16  ->  "marker <n> insns <total> delta <since the previous marker>"
 *   close(0x7e10)              ->  push a region (nested up to 64 deep)
 *   close(0x7e11)              ->  pop it: "region <depth> insns <instructions inside>"
 *   at exit                    ->  "total insns <total>"
 * Lines go to qemu's plugin log (-d plugin -D FILE). One guest thread: the counter is not atomic.
 */
#include <inttypes.h>
#include <stdio.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

enum { MARKER_BASE = 0x7e00, REGION_PUSH = 0x7e10, REGION_POP = 0x7e11, MAX_DEPTH = 64 };
enum { SYS_CLOSE_AARCH64 = 57 };

static uint64_t insns;
static uint64_t last_marker;
static uint64_t stack[MAX_DEPTH];
static int depth;

static void emit(const char *line) { qemu_plugin_outs(line); }

static void on_tb_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insns, qemu_plugin_tb_n_insns(tb));
}

static void on_syscall(qemu_plugin_id_t id, unsigned int vcpu, int64_t num, uint64_t a1, uint64_t a2,
                       uint64_t a3, uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8) {
  char line[128];
  if (num != SYS_CLOSE_AARCH64 || a1 < MARKER_BASE || a1 > REGION_POP) return;
  if (a1 == REGION_PUSH) {
    if (depth < MAX_DEPTH) stack[depth] = insns;
    depth++;
  } else if (a1 == REGION_POP) {
    if (depth == 0) return;
    depth--;
    if (depth < MAX_DEPTH) {
      snprintf(line, sizeof line, "region %d insns %" PRIu64 "\n", depth, insns - stack[depth]);
      emit(line);
    }
  } else {
    snprintf(line, sizeof line, "marker %d insns %" PRIu64 " delta %" PRIu64 "\n", (int)(a1 - MARKER_BASE),
             insns, insns - last_marker);
    last_marker = insns;
    emit(line);
  }
}

static void on_exit(qemu_plugin_id_t id, void *unused) {
  char line[64];
  snprintf(line, sizeof line, "total insns %" PRIu64 "\n", insns);
  emit(line);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_translate);
  qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
  qemu_plugin_register_atexit_cb(id, on_exit, NULL);
  return 0;
}
