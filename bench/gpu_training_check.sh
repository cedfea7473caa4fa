#!/usr/bin/env bash
# GPU check of the training path, for a machine with one CUDA GPU (CI has none, so this is run by hand):
#   1. training throughput per model on the GPU (flow/throughput.py --device cuda, fp32 and bf16);
#   2. a 2-epoch single-GPU xnor_cnv run on Fashion-MNIST (flow/train.py --device cuda --bf16);
#   3. the same model for 1 epoch under torchrun, so DistributedDataParallel initialises with NCCL.
# Back on a CPU machine, `flow/train.py ... --epochs 0 --init-from OUT/cnv_cuda/checkpoint.pt` re-evaluates
# the GPU-trained checkpoint on the CPU (docs/training.md, "On a GPU").
#
#   bench/gpu_training_check.sh results/gpu_h100   (PYTHON=... picks the interpreter; default python3)
# OUT_DIR gets gpu.txt, throughput.json (rendered by flow/experiments/results_summary.py), cnv_cuda/ and cnv_nccl/.
#
# Needs torch with CUDA, brevitas 0.13.4 and Fashion-MNIST (FASHION_MNIST_DIR or Debian's package).
set -euo pipefail
OUT=$(realpath -m "${1:?usage: bench/gpu_training_check.sh OUT_DIR}")
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
cd "$(dirname "$0")/.."

date -u | tee "$OUT/gpu.txt"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee -a "$OUT/gpu.txt"
$PY -c "import torch, brevitas; print('torch', torch.__version__, 'brevitas', brevitas.__version__)" | tee -a "$OUT/gpu.txt"

$PY flow/throughput.py --device cuda --steps 20 --bf16 --output "$OUT/throughput.json"

# Same recipe as the 50/80-epoch CPU runs (bench/run_benchmarks.sh steps 13 and 16), 2 epochs.
$PY flow/train.py --model xnor_cnv --dataset fashion-mnist --shift 0.8 --epochs 2 --batch-size 64 \
  --bf16 --device cuda --no-progress --output "$OUT/cnv_cuda"

# One process is what one GPU allows (NCCL refuses two ranks on the same device).
$PY -m torch.distributed.run --standalone --nproc_per_node 1 flow/train.py --model xnor_cnv \
  --dataset fashion-mnist --shift 0.8 --epochs 1 --batch-size 64 --train-limit 10000 --device cuda \
  --no-progress --output "$OUT/cnv_nccl"
rm -f "$OUT"/cnv_*/resume.pt
