#!/bin/sh
# Instructions per stored event of each variant of the store's
# examples/append_drivers_bench.rs, counted by callgrind (repeatable on a busy
# machine, unlike the wall clock). Each variant runs twice, for SHORT and for LONG
# batches, on a fresh copy of the same prepared database; the difference of the
# two totals over the difference of events is the cost of one event, with the
# process's start-up, the copy and the connections' opening taken out. The
# checkpointer's thread (found by its checkpoint calls and no inserts) is counted
# apart: its share depends on how often 250 ms pass, which under valgrind is
# every few milliseconds of the program's own time.
#
#   cargo build --release -p sightline-store --example append_drivers_bench
#   BIN=$CARGO_TARGET_DIR/release/examples/append_drivers_bench docs/perf/append_drivers_callgrind.sh
set -eu
BIN=${BIN:-target/release/examples/append_drivers_bench}
SIZE=${SIZE:-1024}
SHORT=${SHORT:-4}
LONG=${LONG:-16}
CONVERSATIONS=${CONVERSATIONS:-10000}
VARIANTS=${VARIANTS:-store sqlx-sqlite rusqlite-multirow rusqlite-rowwise rusqlite-intkey generate-only}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
"$BIN" --prepare "$OUT/db" --conversations "$CONVERSATIONS" >/dev/null
for variant in $VARIANTS; do
    for batches in $SHORT $LONG; do
        valgrind --tool=callgrind --separate-threads=yes \
            --callgrind-out-file="$OUT/$variant.$batches" \
            "$BIN" --from "$OUT/db" --variants "$variant" --sizes "$SIZE" --batches "$batches" \
            --rounds 1 --warmup 0 --conversations "$CONVERSATIONS" >"$OUT/$variant.$batches.log" 2>&1
    done
done
python3 - "$OUT" "$SIZE" "$SHORT" "$LONG" $VARIANTS <<'EOF'
import glob, sys
out, size, short, long_ = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
variants = sys.argv[5:]

def totals(prefix):
    """(instructions outside the checkpointer, instructions of the checkpointer)"""
    work = checkpointer = 0
    for name in glob.glob(prefix + "-*"):
        text = open(name, errors="replace").read()
        total = 0
        for line in text.splitlines():
            if line.startswith(("summary:", "totals:")):
                total = int(line.split()[1])
        if "sqlite3PagerCheckpoint" in text and "sqlite3BtreeInsert" not in text:
            checkpointer += total
        else:
            work += total
    return work, checkpointer

events = (long_ - short) * size
rows = {}
for variant in variants:
    w1, c1 = totals(f"{out}/{variant}.{short}")
    w2, c2 = totals(f"{out}/{variant}.{long_}")
    rows[variant] = ((w2 - w1) / events, (c2 - c1) / events)
base = rows.get("generate-only", (0, 0))[0]
print(f"batches of {size}, {short} and {long_} batches: instructions per event")
print(f"{'variant':20} {'all but checkpointer':>21} {'minus generate-only':>20} {'checkpointer':>13}")
for variant, (work, checkpointer) in rows.items():
    print(f"{variant:20} {work:21,.0f} {work - base:20,.0f} {checkpointer:13,.0f}")
EOF
echo "callgrind files in $OUT"
