#!/usr/bin/env bash
# Prints the data root, as src/lib.rs's data_root() finds it: $VAELAB_DATA;
# unset, ./data, or the shared ../shared/data when only that exists.
cd "$(dirname "$0")/.."
if [ -n "${VAELAB_DATA:-}" ]; then echo "$VAELAB_DATA"
elif [ ! -e data ] && [ -d ../shared/data ]; then echo ../shared/data
else echo data
fi
