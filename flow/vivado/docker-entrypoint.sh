#!/bin/bash
# Container entrypoint (see Dockerfile): put a host-mounted Vivado on PATH the way FINN's container
# does, from FINN_XILINX_PATH + FINN_XILINX_VERSION, then run the command (default: make test).
set -e
if [ -n "${FINN_XILINX_PATH:-}" ] && [ -n "${FINN_XILINX_VERSION:-}" ]; then
  for settings in "$FINN_XILINX_PATH/Vivado/$FINN_XILINX_VERSION/settings64.sh" \
                  "$FINN_XILINX_PATH/$FINN_XILINX_VERSION/Vivado/settings64.sh"; do
    if [ -f "$settings" ]; then
      # shellcheck disable=SC1090
      source "$settings"
      echo "shiftbnn: Vivado $FINN_XILINX_VERSION from $settings" >&2
      break
    fi
  done
  if [ -z "${XILINX_VIVADO:-}" ]; then
    echo "shiftbnn: no Vivado under $FINN_XILINX_PATH ($FINN_XILINX_VERSION); bitstreams are skipped" >&2
  fi
fi
exec "$@"
