#!/usr/bin/env bash
# The commands that produced the committed benchmark results (the sweeps with --val-split 0: they
# trained on every training image and chose on the test set, before flow/sweep.py held out a
# validation split by default; --shift-as-bn-bias / --learnable-shift were --control / --learnable), run one at a time on the shared 2-core
# x86_64 CPU (torch 2.13 CPU), except steps 17-18 (one GPU). Each results.json / metrics.json records
# its own command, date and machine.
#   bench/run_benchmarks.sh            # all steps (in the order they were run: 1 2 3 6 4 7 8 5 9 10 ... 16 19 20 21)
#   bench/run_benchmarks.sh 2 3        # only steps 2 and 3
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
STEPS=${*:-1 2 3 6 4 7 8 5 9 10 11 12 13 14 15 16 19 20 21 22 23 24 25}

# 1. xnor_mlp (3x256), Fashion-MNIST, full training set, 5 epochs: shift sweep + controls.
step1() {
  $PY flow/sweep.py --val-split 0 --model xnor_mlp --dataset fashion-mnist --shifts 0 0.1 0.2 0.3 0.5 0.8 \
      --seeds 0 1 2 --epochs 5 --threads 1 --shift-as-bn-bias --learnable-shift --output results/fmnist_xnor_mlp
}

# 2. xnor_cnv and bireal_cnv at reduced cost (width 0.25, batch 64, 2 epochs on the first 20k / 10k
#    training images): full width/epochs do not fit this CPU budget (see results/throughput.json).
#    The shift 0.8 is the best of the xnor_mlp sweep (step 1), transferred, not tuned per model.
step2() {
  $PY flow/sweep.py --val-split 0 --model xnor_cnv --dataset fashion-mnist --shifts 0 0.8 --seeds 0 1 2 \
      --width 0.25 --train-limit 20000 --epochs 2 --batch-size 64 --threads 1 \
      --output results/fmnist_xnor_cnv_w025
}
# (Step 6 ran before bireal_cnv got its hardware layout; its recorded command predates the
#  "downsample"/"shortcut_bits" arguments, which reproduce the float layout it used.)
step6() {
  $PY flow/sweep.py --val-split 0 --model bireal_cnv --dataset fashion-mnist --shifts 0 0.8 --seeds 0 1 2 \
      --width 0.25 --model-kwargs '{"blocks": [1, 1, 1], "downsample": "conv", "shortcut_bits": null}' \
      --train-limit 10000 --epochs 2 --batch-size 64 \
      --threads 1 --output results/fmnist_bireal_cnv_w025
}

# 3. xnor_mlp: larger shifts and which layers to shift (reuses the runs of step 1).
step3() {
  $PY flow/sweep.py --val-split 0 --model xnor_mlp --dataset fashion-mnist \
      --shifts 0 0.1 0.2 0.3 0.5 0.8 1.2 0.8,0,0 0,0.8,0.8 \
      --seeds 0 1 2 --epochs 5 --threads 1 --shift-as-bn-bias --learnable-shift --output results/fmnist_xnor_mlp
}

# 4. Confirmation on fresh seeds: the best shift of step 3 was picked on seeds 0-2, so its advantage
#    there is biased upwards. t=0 vs that shift on seeds 3-7.
step4() {
  local best
  best=$($PY -c "import json; r = json.load(open('results/fmnist_xnor_mlp/results.json')); \
b = r.get('best_shift', r['best']); print(next(g['shift'] for g in r['summary'] if g['label'] == b))" | tr -d '[] ')
  $PY flow/sweep.py --val-split 0 --model xnor_mlp --dataset fashion-mnist --shifts 0 "$best" --seeds 3 4 5 6 7 \
      --epochs 5 --threads 1 --output results/fmnist_xnor_mlp_confirm
}

# 5. Training throughput per model (1 thread).
step5() {
  $PY flow/throughput.py --threads 1 --steps 4 --output results/throughput.json
}

# 7. xnor_cnv confirmation on fresh seeds 3-7 (same reduced setting as step 2).
step7() {
  $PY flow/sweep.py --val-split 0 --model xnor_cnv --dataset fashion-mnist --shifts 0 0.8 --seeds 3 4 5 6 7 \
      --width 0.25 --train-limit 20000 --epochs 2 --batch-size 64 --threads 1 \
      --output results/fmnist_xnor_cnv_w025_confirm
}

# 8. xnor_mlp: how far? Shifts beyond 1.2 (reuses all earlier runs in that folder; the control follows
#    the best shift). Run after step 4, so step 4 compared against the best of step 3.
step8() {
  $PY flow/sweep.py --val-split 0 --model xnor_mlp --dataset fashion-mnist \
      --shifts 0 0.1 0.2 0.3 0.5 0.8 1.2 1.6 2.0 0.8,0,0 0,0.8,0.8 \
      --seeds 0 1 2 --epochs 5 --threads 1 --shift-as-bn-bias --learnable-shift --output results/fmnist_xnor_mlp
}

# 9. Candidate for the embedded default checkpoint: xnor_mlp 3x256 with the best shift of the sweep,
#    trained like flow/default_model (10 epochs, seed 0).
step9() {
  local best
  best=$($PY -c "import json; r = json.load(open('results/fmnist_xnor_mlp/results.json')); \
b = r.get('best_shift', r['best']); print(next(g['shift'] for g in r['summary'] if g['label'] == b))" | tr -d '[] ')
  $PY flow/train.py --model xnor_mlp --dataset fashion-mnist --hidden 256,256,256 --shift "$best" \
      --epochs 10 --seed 0 --threads 1 --no-progress --output results/default_candidate
  rm -f results/default_candidate/resume.pt
}

# 10. xnor_cnv, width 0.25, one more epoch than step 2 (the recipe of the hardware comparison in
#     docs/bireal_hw.md), with the paper's control (t = 0, BatchNorm bias initialised to -0.8).
step10() {
  $PY flow/sweep.py --val-split 0 --model xnor_cnv --dataset fashion-mnist --shifts 0 0.8 --seeds 0 1 2 \
      --width 0.25 --train-limit 20000 --epochs 3 --batch-size 64 --threads 1 --shift-as-bn-bias \
      --output results/fmnist_xnor_cnv_w025_e3
}

# 11. bireal_cnv hardware layout (int8 shared residual quantizer, max-pool down-sampling), same recipe:
#     t = 0 vs 0.8 with int8 shortcuts, and the shortcut bit width at t = 0.8 (float, int8, int4).
step11() {
  local c="--model bireal_cnv --dataset fashion-mnist --seeds 0 1 2 --width 0.25 --train-limit 20000"
  c="$c --epochs 3 --batch-size 64 --threads 1"
  $PY flow/sweep.py --val-split 0 $c --shifts 0 0.8 --output results/fmnist_bireal_cnv_hw_int8
  $PY flow/sweep.py --val-split 0 $c --shifts 0.8 --model-kwargs '{"shortcut_bits": null}' \
      --output results/fmnist_bireal_cnv_hw_float
  $PY flow/sweep.py --val-split 0 $c --shifts 0.8 --model-kwargs '{"shortcut_bits": 4, "shortcut_range": 4.0}' \
      --output results/fmnist_bireal_cnv_hw_int4
}

# 12. Towards the >= 92 % target: xnor_cnv width 0.5, full training set, 20 epochs, t = 0.8, one seed.
step12() {
  $PY flow/train.py --model xnor_cnv --dataset fashion-mnist --width 0.5 --shift 0.8 --epochs 20 \
      --batch-size 64 --seed 0 --threads 1 --no-progress --resume --output results/xnor_cnv_w05_t08_e20
  rm -f results/xnor_cnv_w05_t08_e20/resume.pt
}

# 13. The >= 92 % target: xnor_cnv at full CNV width, full training set, 50 epochs, t = 0.8, one seed,
#     bfloat16 autocast for the training forward (1.4x images/s on this AVX512-BF16 CPU; fp32 evaluation).
step13() {
  $PY flow/train.py --model xnor_cnv --dataset fashion-mnist --width 1.0 --shift 0.8 --epochs 50 \
      --batch-size 64 --seed 0 --threads 2 --bf16 --no-progress --resume --output results/xnor_cnv_w1_t08_e50
  rm -f results/xnor_cnv_w1_t08_e50/resume.pt
}

# 14. A warm restart of step 13's checkpoint: 6 more epochs, cosine from lr 5e-4 (checkpoint not kept).
step14() {
  $PY flow/train.py --model xnor_cnv --dataset fashion-mnist --width 1.0 --shift 0.8 --epochs 6 --lr 5e-4 \
      --batch-size 64 --seed 0 --threads 2 --bf16 --no-progress \
      --init-from results/xnor_cnv_w1_t08_e50/checkpoint.pt --output results/xnor_cnv_w1_t08_e50_ft6
  rm -f results/xnor_cnv_w1_t08_e50_ft6/checkpoint.pt
}

# 15. Step 13 with lighter augmentation (1 px translation instead of 2; h-flip kept): step 13 underfit its
#     augmented training set (train 92.5 %, test 91.79 %).
#     (checkpoint not kept: it ends below step 13.)
step15() {
  $PY flow/train.py --model xnor_cnv --dataset fashion-mnist --width 1.0 --shift 0.8 --epochs 50 --augment-pad 1 \
      --batch-size 64 --seed 0 --threads 2 --bf16 --no-progress --resume --output results/xnor_cnv_w1_t08_e50_pad1
  rm -f results/xnor_cnv_w1_t08_e50_pad1/resume.pt results/xnor_cnv_w1_t08_e50_pad1/checkpoint.pt
}

# 16. Step 13 with a longer schedule (80 epochs instead of 50; everything else equal): step 13's test
#     accuracy was still rising over its last epochs. 3.5 h here over two sessions (--resume); ends at
#     91.87 %, the best xnor_cnv: checkpoint kept.
step16() {
  $PY flow/train.py --model xnor_cnv --dataset fashion-mnist --width 1.0 --shift 0.8 --epochs 80 \
      --batch-size 64 --seed 0 --threads 2 --bf16 --no-progress --resume --output results/xnor_cnv_w1_t08_e80
  rm -f results/xnor_cnv_w1_t08_e80/resume.pt
}

# 17-18 need a CUDA GPU (not in the default list; ran on a lent NVIDIA H100 80GB, torch 2.11.0+cu130):
#   bench/run_benchmarks.sh 17 18
# 17. The seed comparison at full size: xnor_cnv full width, all 60k images, 10 epochs, t = 0 vs 0.8,
#     3 seeds each, six runs side by side on one GPU (--jobs 6; about 6 minutes). Checkpoints not kept.
step17() {
  $PY flow/sweep.py --val-split 0 --model xnor_cnv --dataset fashion-mnist --shifts 0 0.8 --seeds 0 1 2 --epochs 10 \
      --batch-size 64 --threads 2 --jobs 6 --device cuda --output results/fmnist_xnor_cnv_w1_e10_gpu
  rm -f results/fmnist_xnor_cnv_w1_e10_gpu/runs/*/{checkpoint,resume}.pt
}
# 18. The GPU checks of the training path (throughput table, 2 epochs on cuda, torchrun over NCCL).
step18() {
  PYTHON=$PY bench/gpu_training_check.sh results/gpu_h100
  rm -f results/gpu_h100/cnv_*/checkpoint.pt  # the script removes resume.pt itself
}

# 19. Step 16's checkpoint, a warm restart of 20 epochs (cosine from lr 5e-4) whose saved model is the
#     average of its last 10 epochs' weights and BatchNorm statistics (--average-last 10, SWA-style),
#     declared as the result before the run. Ends at 90.10 % (its last epoch:
#     91.87 %); checkpoint kept for bench/bn_recalibration_check.py --augment (91.46 %).
step19() {
  $PY flow/train.py --model xnor_cnv --dataset fashion-mnist --width 1.0 --shift 0.8 --epochs 20 --lr 5e-4 \
      --batch-size 64 --seed 0 --threads 2 --bf16 --no-progress --resume --average-last 10 \
      --init-from results/xnor_cnv_w1_t08_e80/checkpoint.pt --output results/xnor_cnv_w1_t08_e80_swa
  rm -f results/xnor_cnv_w1_t08_e80_swa/resume.pt
}

# 20. Step 16's checkpoint, 10 more epochs without translation (--augment-pad 0; h-flip kept), cosine
#     from lr 1e-4: step 16 underfits its augmented training set (train 93.0 %) while the test images are
#     centred. Declared result: the last epoch. Ends at 91.94 %, the best xnor_cnv: checkpoint kept.
step20() {
  $PY flow/train.py --model xnor_cnv --dataset fashion-mnist --width 1.0 --shift 0.8 --epochs 10 --lr 1e-4 \
      --augment-pad 0 --batch-size 64 --seed 0 --threads 2 --bf16 --no-progress --resume \
      --init-from results/xnor_cnv_w1_t08_e80/checkpoint.pt --output results/xnor_cnv_w1_t08_e80_ft_pad0
  rm -f results/xnor_cnv_w1_t08_e80_ft_pad0/resume.pt
}

# 21. Step 20's recipe once more, from step 20's checkpoint (declared before the run: the last epoch).
#     Ends at 91.50 %: checkpoint not kept.
step21() {
  $PY flow/train.py --model xnor_cnv --dataset fashion-mnist --width 1.0 --shift 0.8 --epochs 10 --lr 1e-4 \
      --augment-pad 0 --batch-size 64 --seed 0 --threads 2 --bf16 --no-progress --resume \
      --init-from results/xnor_cnv_w1_t08_e80_ft_pad0/checkpoint.pt --output results/xnor_cnv_w1_t08_e80_ft_pad0_x2
  rm -f results/xnor_cnv_w1_t08_e80_ft_pad0_x2/resume.pt results/xnor_cnv_w1_t08_e80_ft_pad0_x2/checkpoint.pt
}

# 22. Bi-Real significance (declared before the run): bireal_cnv (hardware layout, int8 shortcuts) at
#     step 15's budget (width 0.25, first 20k images, 3 epochs, batch 64), t = 0 vs the pre-declared
#     t = 0.8, on 8 fresh seeds 10-17. The result is the paired 95 % interval of t=0.8 - t=0 (Welch's
#     beside it); "significant" only if it excludes 0.
step22() {
  $PY flow/sweep.py --val-split 0 --model bireal_cnv --dataset fashion-mnist --shifts 0 0.8 --seeds 10 11 12 13 14 15 16 17 \
      --width 0.25 --train-limit 20000 --epochs 3 --batch-size 64 --threads 1 --jobs 2 \
      --output results/fmnist_bireal_cnv_hw_int8_8seeds
  rm -f results/fmnist_bireal_cnv_hw_int8_8seeds/runs/*/{checkpoint,resume}.pt
}

# 23-25. Does the gain persist with training? (declared before the runs) xnor_cnv width 0.25, first 20k
#     images, batch 64, seeds 0-2, t = 0 vs t = 0.8, and a learnable per-channel t started at 0.8
#     (--learnable-start best), at 3, 10 and 30 epochs (each its own cosine schedule). The result per
#     budget: paired 95 % intervals of t=0.8 - t=0 and of learnable - t=0; plotted by
#     flow/experiments/persistence.py.
persist() {
  $PY flow/sweep.py --val-split 0 --model xnor_cnv --dataset fashion-mnist --shifts 0 0.8 --seeds 0 1 2 --width 0.25 \
      --train-limit 20000 --epochs "$1" --batch-size 64 --threads 1 --jobs 2 --learnable-shift --learnable-start best \
      --output "results/persist_xnor_cnv_w025_e$1"
  rm -f "results/persist_xnor_cnv_w025_e$1"/runs/*/{checkpoint,resume}.pt
}
step23() { persist 3; }
step24() { persist 10; }
step25() { persist 30; }

# resnet_acc. What the hardware ResNet's down-sampling form costs (docs/resnet_hw.md; STEPS=_resnet_acc):
#     bireal_resnet18_hw with three stages of one basic block (depths [1, 1, 1]) at width 0.25 on
#     Fashion-MNIST (first 10k images, 2 epochs, batch 64, t = 0.8, seeds 0-2): the hardware form
#     (max-pool + projection), the same with a binary-weight stem (stem_bits=1; seeds paired with the
#     int8 stem), Bi-Real's float down-sampling shortcut on the same int8 stream, and the float zoo model
#     of the same shape (all at the default --val-split, as the committed results.json record).
step_resnet_acc() {
  local c=(--dataset fashion-mnist --seeds 0 1 2 --width 0.25 --train-limit 10000 --epochs 2 --batch-size 64
           --threads 1 --shifts 0.8)
  $PY flow/sweep.py --model bireal_resnet18_hw "${c[@]}" --model-kwargs '{"depths": [1, 1, 1], "stem_bits": 1}' \
      --output results/fmnist_bireal_resnet_hw_binstem
  $PY flow/sweep.py --model bireal_resnet18_hw "${c[@]}" --model-kwargs '{"depths": [1, 1, 1]}' \
      --output results/fmnist_bireal_resnet_hw_maxpool
  $PY flow/sweep.py --model bireal_resnet18_hw "${c[@]}" --model-kwargs '{"depths": [1, 1, 1], "downsample": "conv"}' \
      --output results/fmnist_bireal_resnet_hw_conv
  $PY flow/sweep.py --model bireal_resnet18 "${c[@]}" --model-kwargs '{"depths": [1, 1, 1]}' \
      --output results/fmnist_bireal_resnet_float
  rm -f results/fmnist_bireal_resnet_*/runs/*/{checkpoint,resume}.pt
}

# resnet_bench. The hardware ResNets through flow/build.py (bench/resnet_hw.py; STEPS=_resnet_bench): a reduced
#     one through RTL, and the full size on ZCU104 folded for 2,000 img/s at 200 MHz through RTL and yosys (out of
#     context, block by block: ~40 min on this 2-core machine).
step_resnet_bench() {
  $PY bench/resnet_hw.py --board ZCU104 --models bireal_resnet18_hw --model-args '{"in_size": 32, "width": 0.125}' \
      --verify-images 8
  $PY bench/resnet_hw.py --board ZCU104 --models bireal_resnet18_hw --target-fps 2000 --clock-mhz 200 \
      --verify-images 2 --synth --timeout 5400
}

# resnet_stem. The full-size bireal_resnet18_hw (224x224, width 1) on the ZCU104 at 200 MHz with the int8 and the
#     binary-weight stem: the folding search's modelled img/s and resources, no RTL (bench/compile_time.py;
#     docs/resnet_hw.md section 9; STEPS=_resnet_stem).
step_resnet_stem() {
  $PY bench/compile_time.py  # export to folded graph at the default target (issue 27 item 5: <= 60 s)
  $PY bench/compile_time.py --target-fps 2000 --clock-mhz 200
  $PY bench/compile_time.py --model-args '{"stem_bits": 1}' --target-fps 2000 --clock-mhz 200
  $PY bench/compile_time.py --model-args '{"stem_bits": 1}' --target-fps max --clock-mhz 200
  $PY bench/compile_time.py --target-fps max --clock-mhz 200
  # XNOR-Net's ResNet-18 at full size: to the folded graph and the model's resources
  $PY bench/compile_time.py --model xnor_resnet18_hw --target-fps 2000 --clock-mhz 200
  $PY bench/compile_time.py --model xnor_resnet18_hw --target-fps max --clock-mhz 200
}

# default_eval. The embedded default checkpoint re-evaluated on the current code (STEPS=_default_eval): its
#     test accuracy, as make build's network, independent of whether re-training it reproduces its run.
step_default_eval() {
  $PY flow/train.py --model xnor_mlp --dataset fashion-mnist --hidden 256,256,256 --shift 1.2 --epochs 0 \
      --init-from results/default_model/checkpoint.pt --threads 1 --no-progress --force --output build/default_eval
  cp build/default_eval/metrics.json results/default_model/evaluation.json
}

# repro_tiny. The folder tests/test_reproduce.py re-trains on every CI run (STEPS=_repro_tiny): xnor_mlp 64-64 on
#     scikit-learn's digits, 2 epochs, t = 0 vs 0.5, seeds 0-1 (seconds). Re-made by a change that alters training.
step_repro_tiny() {
  $PY flow/sweep.py --model xnor_mlp --dataset digits --shifts 0 0.5 --seeds 0 1 --epochs 2 --hidden 64,64 \
      --threads 1 --output results/repro_digits_mlp
  rm -f results/repro_digits_mlp/runs/*/{checkpoint,resume}.pt
}

for s in $STEPS; do "step$s"; done
