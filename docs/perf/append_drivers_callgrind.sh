#!/bin/sh
# Instructions per stored event of each variant of the store's
# examples/append_drivers_bench.rs, counted by callgrind (repeatable on a busy
# machine, unlike the wall clock). Each variant runs twice, for SHORT and for LONG
# batches, on a fresh copy of the same prepared database; the difference of the
# two totals over the difference of events is the cost of one event, with the
# process's start-up, the copy and the connections' opening taken out. The
# checkpointer's thread (found by its checkpoint calls and no inserts) is counted
# apart: its share depends on how often 250 ms pass, which under valgrind is
# every few milliseconds of the program's own time. The rest is split by where
# the instructions were spent (self cost): SQLite, the allocator, libc's mem*
# functions, locks, and Rust (the drivers, tokio, serde_json, the bench).
#
#   cargo build --release -p sightline-store --example append_drivers_bench
#   BIN=$CARGO_TARGET_DIR/release/examples/append_drivers_bench docs/perf/append_drivers_callgrind.sh
#
# REPORT_ONLY=1 OUT=<dir> prints the table of an earlier run again.
set -eu
BIN=${BIN:-target/release/examples/append_drivers_bench}
SIZE=${SIZE:-1024}
SHORT=${SHORT:-4}
LONG=${LONG:-16}
CONVERSATIONS=${CONVERSATIONS:-10000}
# short: conv-N, as append_bench; random: 22-character ids, as the hub makes them.
IDS=${IDS:-short}
# More options for every run, e.g. "--move-rows 128".
ARGS=${ARGS:-}
VARIANTS=${VARIANTS:-store sqlx-sqlite sqlx-any-rowwise rusqlite-multirow rusqlite-rowwise rusqlite-intkey generate-only}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
if [ -z "${REPORT_ONLY:-}" ]; then
    [ -e "$OUT/db/template.db" ] || "$BIN" --prepare "$OUT/db" --conversations "$CONVERSATIONS" --ids "$IDS" >/dev/null
    for variant in $VARIANTS; do
        for batches in $SHORT $LONG; do
            valgrind --tool=callgrind --separate-threads=yes \
                --callgrind-out-file="$OUT/$variant.$batches" \
                "$BIN" --from "$OUT/db" --variants "$variant" --sizes "$SIZE" --batches "$batches" \
                --rounds 1 --warmup 0 --conversations "$CONVERSATIONS" --ids "$IDS" $ARGS >"$OUT/$variant.$batches.log" 2>&1
        done
    done
fi
python3 - "$OUT" "$SIZE" "$SHORT" "$LONG" $VARIANTS <<'EOF'
import glob, re, subprocess, sys
out, size, short, long_ = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
variants = sys.argv[5:]
PARTS = ["sqlite", "allocator", "mem*", "locks", "rust"]

def part(location):
    if "sqlite3.c" in location:
        return "sqlite"
    if "/malloc/" in location:
        return "allocator"
    if "/string/" in location:
        return "mem*"
    if "/nptl/" in location or "futex" in location:
        return "locks"
    return "rust"

def costs(prefix):
    """Instructions outside the checkpointer's thread, split by where they were
    spent (self cost), and the checkpointer's."""
    split = dict.fromkeys(PARTS, 0)
    checkpointer = 0
    for name in glob.glob(prefix + "-*"):
        text = open(name, errors="replace").read()
        if "sqlite3WalCheckpoint" in text and "sqlite3BtreeInsert" not in text:
            checkpointer += int(re.search(r"^totals: (\d+)", text, re.M).group(1))
            continue
        listing = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100", name],
                                 capture_output=True, text=True).stdout
        for line in listing.splitlines():
            found = re.match(r"^\s*([\d,]+) \([ \d.]+%\)\s+(\S.*)$", line)
            if found and "PROGRAM TOTALS" not in line:
                split[part(found.group(2))] += int(found.group(1).replace(",", ""))
    return split, checkpointer

events = (long_ - short) * size
rows = {}
for variant in variants:
    s1, c1 = costs(f"{out}/{variant}.{short}")
    s2, c2 = costs(f"{out}/{variant}.{long_}")
    rows[variant] = ({k: (s2[k] - s1[k]) / events for k in PARTS}, (c2 - c1) / events)
base = sum(rows["generate-only"][0].values()) if "generate-only" in rows else 0
print(f"batches of {size}; {short} and {long_} batches; instructions per event")
print(f"{'variant':20} {'total':>8} {'- generate':>10} " + " ".join(f"{k:>9}" for k in PARTS)
      + f" {'checkpointer':>12}")
for variant, (split, checkpointer) in rows.items():
    total = sum(split.values())
    print(f"{variant:20} {total:8,.0f} {total - base:10,.0f} " + " ".join(f"{split[k]:9,.0f}" for k in PARTS)
          + f" {checkpointer:12,.0f}")
EOF
echo "callgrind files in $OUT"
