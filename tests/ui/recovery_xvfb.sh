#!/bin/bash
# By hand, on a real X server: paint a mask stroke in the GUI, wait one autosave interval, kill -9,
# list the recovery files, start again and press Enter on the recovery dialog (Recover); screenshots
# go to $OUT. Needs xvfb-run and xdotool (apt-get install -y xvfb xdotool).
#   xvfb-run -a -s "-screen 0 1600x1000x24" tests/ui/recovery_xvfb.sh [OUT]
set -u
REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$(mktemp -d)}
mkdir -p "$OUT" && cd "$OUT"
export LUCID_RECOVERY_DIR=$OUT/rec LUCID_CONFIG_DIR=$OUT/cfg LUCID_AUTOSAVE_SECONDS=5 PYTHONPATH=$REPO
PY=${PYTHON:-python3}
shot() { $PY -c "from PIL import ImageGrab; ImageGrab.grab(xdisplay='$DISPLAY').save('$1')"; echo "screenshot $OUT/$1"; }
$PY -c "
import numpy as np; from PIL import Image
y, x = np.mgrid[0:600, 0:900]
Image.fromarray(np.stack([x * 255 // 900, y * 255 // 600, np.full_like(x, 128)], -1).astype(np.uint8)).save('photo.png')"
$PY -m editor "$OUT/photo.png" --no-sample > gui1.log 2>&1 &
PID=$!
for _ in $(seq 60); do WID=$(xdotool search --name "Lucid" 2>/dev/null | head -1); [ -n "$WID" ] && break; sleep 1; done
sleep 4
xdotool windowsize --sync "$WID" 1400 900; xdotool windowmove --sync "$WID" 0 0; sleep 2
eval "$(xdotool getwindowgeometry --shell "$WID")"
CX=$((X + WIDTH / 2)); CY=$((Y + HEIGHT / 2))
xdotool mousemove $((CX - 200)) $CY mousedown 1
for s in $(seq 1 20); do xdotool mousemove $((CX - 200 + s * 20)) $((CY + (s % 5) * 3)); sleep 0.03; done
xdotool mouseup 1
sleep 1; shot stroke.png
sleep 7  # one autosave interval and a margin
kill -9 $PID; wait $PID 2>/dev/null; echo "killed with SIGKILL"
echo "--- lucid recover --list"; $PY -m editor recover --list
$PY -m editor --no-sample > gui2.log 2>&1 &
PID2=$!
for _ in $(seq 60); do DW=$(xdotool search --name "Recover unsaved work" 2>/dev/null | head -1); [ -n "$DW" ] && break; sleep 1; done
sleep 2; shot dialog.png
xdotool windowactivate --sync "$DW" 2>/dev/null; xdotool key --window "$DW" Return
sleep 4; shot recovered.png
kill $PID2; wait $PID2 2>/dev/null
