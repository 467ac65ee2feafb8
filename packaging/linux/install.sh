#!/bin/sh
# Install Lucid for the current user from this unpacked archive (no root needed):
#   ./install.sh            # into ~/.local (program in ~/.local/opt/lucid, command ~/.local/bin/lucid)
#   ./install.sh --uninstall
# PREFIX=/opt/... ./install.sh installs elsewhere (then make sure $PREFIX/bin is on PATH).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${PREFIX:-"$HOME/.local"}
APP_ID=io.github.lucid_editor.Lucid
DEST="$PREFIX/opt/lucid"

remove() {
    rm -rf "$DEST"
    rm -f "$PREFIX/bin/lucid" "$PREFIX/share/applications/$APP_ID.desktop" "$PREFIX/share/metainfo/$APP_ID.metainfo.xml"
    find "$PREFIX/share/icons/hicolor" -name "$APP_ID.*" -delete 2>/dev/null || true
}

if [ "${1:-}" = "--uninstall" ]; then
    remove
    echo "Lucid removed from $PREFIX (your models, settings and caches in ~/.local/share/Lucid, ~/.config/Lucid and ~/.cache/Lucid are kept)."
    exit 0
fi

remove
mkdir -p "$DEST" "$PREFIX/bin"
cp -a "$HERE/lucid/." "$DEST/"
ln -sf "$DEST/lucid" "$PREFIX/bin/lucid"
(cd "$HERE/share" && find . -type f) | while read -r f; do
    mkdir -p "$PREFIX/share/$(dirname "$f")"
    cp "$HERE/share/$f" "$PREFIX/share/$f"
done
# Point the launcher at the installed program even when $PREFIX/bin is not on PATH.
sed -i "s|^Exec=lucid|Exec=$DEST/lucid|; s|^TryExec=lucid|TryExec=$DEST/lucid|" \
    "$PREFIX/share/applications/$APP_ID.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$PREFIX/share/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$PREFIX/share/icons/hicolor" || true
# Compile the fill and matting kernels into this user's cache now, so no first use waits for numba.
"$DEST/lucid" warm-caches >/dev/null 2>&1 || echo "(warming the kernel caches failed; the first fill and matte will compile)"
echo "Lucid installed in $DEST. Start it from your applications menu or run: $PREFIX/bin/lucid"
echo "Check the installation with: $PREFIX/bin/lucid --self-test"
