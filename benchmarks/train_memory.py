"""COMPUTED (not measured) GPU memory for training LLaVA with Mistral-7B + CLIP ViT-L/14-336
on one 80 GB GPU: full fine-tuning against LoRA, with and without gradient checkpointing.

Parameter counts come from the real configurations, instantiated on PyTorch's meta device
(no weights, no download); LoRA's from the adapter shapes. Per-token activation memory is
estimated from the tensors a Mistral decoder layer keeps for its backward pass with
SDPA/flash attention (no sequence-squared attention matrix):

    attention block: norm input + output (2h), q, k, v (h + 2 kv), their pre-RoPE copies
                     (h + kv), attention output (h)                 -> 5h + 3kv
    MLP block:       norm input + output (2h), gate, up, silu(gate), gate * up (4i)  -> 2h + 4i

in bf16 (2 bytes each); h = 4096, kv = 1024 (8 KV heads x 128), i = 14336. With gradient
checkpointing only each layer's input (h per token) is kept, plus one layer's activations
while it is recomputed. The frozen vision tower runs without gradients and keeps nothing.
vlprune's loss computes the LM head only at answer positions, so logits are negligible.

Run:  PYTHONPATH=src python benchmarks/train_memory.py [--seq-len 768] [--gpu-gib 79]
"""

from __future__ import annotations

import argparse

GIB = 1024**3

MISTRAL_7B = dict(vocab_size=32000, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                  num_attention_heads=32, num_key_value_heads=8, head_dim=128, tie_word_embeddings=False)
CLIP_L_336 = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16,
                  image_size=336, patch_size=14, projection_dim=768)
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def parameter_counts() -> dict[str, int]:
    """LLM, vision tower and mlp2x_gelu projector sizes, counted on the meta device."""
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModel, MistralConfig, MistralForCausalLM

    with torch.device("meta"):
        llm = MistralForCausalLM(MistralConfig(**MISTRAL_7B))
        tower = CLIPVisionModel(CLIPVisionConfig(**CLIP_L_336))
    h_vision, h = CLIP_L_336["hidden_size"], MISTRAL_7B["hidden_size"]
    return {"llm": sum(p.numel() for p in llm.parameters()),
            "vision": sum(p.numel() for p in tower.parameters()),
            "projector": h_vision * h + h + h * h + h}


def lora_parameters(r: int) -> int:
    c = MISTRAL_7B
    h, i, kv = c["hidden_size"], c["intermediate_size"], c["num_key_value_heads"] * c["head_dim"]
    shapes = {"q_proj": (h, h), "k_proj": (h, kv), "v_proj": (h, kv), "o_proj": (h, h),
              "gate_proj": (h, i), "up_proj": (h, i), "down_proj": (i, h)}
    return c["num_hidden_layers"] * sum(r * (a + b) for a, b in (shapes[t] for t in LORA_TARGETS))


def activation_bytes_per_token(checkpointing: bool) -> int:
    c = MISTRAL_7B
    h, i, kv, layers = c["hidden_size"], c["intermediate_size"], c["num_key_value_heads"] * c["head_dim"], \
        c["num_hidden_layers"]
    per_layer = (5 * h + 3 * kv) + (2 * h + 4 * i)  # elements kept per token per layer
    if checkpointing:
        return 2 * (layers * h + per_layer)
    return 2 * layers * per_layer


def rows(seq_len: int, gpu_gib: float, lora_r: int) -> list[dict]:
    n = parameter_counts()
    frozen_vision = n["vision"]
    settings = [
        # name, flags, bytes per trainable LLM param (weights, grads, Adam m+v), frozen bytes/param
        ("full, fp32 master weights + bf16 autocast (the GPU default)", "--precision auto",
         n["llm"] + n["projector"], 4 + 4 + 8, 0, 4),
        ("full, bf16 weights + bf16 Adam states", "--precision bf16",
         n["llm"] + n["projector"], 2 + 2 + 4, 0, 2),
        (f"LoRA r={lora_r} on a bf16 base", f"--lora-r {lora_r} --precision bf16",
         lora_parameters(lora_r) + n["projector"], 4 + 4 + 8, n["llm"], 2),
        (f"LoRA r={lora_r} on an fp32 base + bf16 autocast", f"--lora-r {lora_r}",
         lora_parameters(lora_r) + n["projector"], 4 + 4 + 8, n["llm"], 4),
    ]
    out = []
    reserve = 2.0  # CUDA context, allocator fragmentation
    for name, flags, trainable, per_trainable, frozen, frozen_bytes in settings:
        static = trainable * per_trainable + frozen * frozen_bytes + frozen_vision * frozen_bytes
        for checkpointing in (False, True):
            per_seq = activation_bytes_per_token(checkpointing) * seq_len
            room = gpu_gib * GIB - reserve * GIB - static
            fits = max(0, int(room // per_seq))
            out.append({"setting": name, "flags": flags + (" --gradient-checkpointing" if checkpointing else ""),
                        "trainable": trainable, "static_gib": static / GIB, "act_gib_per_seq": per_seq / GIB,
                        "max_micro_batch": fits,
                        "total_at_4": (static + 4 * per_seq) / GIB + reserve})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq-len", type=int, default=768,
                        help="tokens per example: 576 image tokens + ~190 of prompt and answer (default 768)")
    parser.add_argument("--gpu-gib", type=float, default=79.0, help="usable GPU memory (80 GB card: ~79 GiB)")
    parser.add_argument("--lora-r", type=int, default=128)
    args = parser.parse_args()
    n = parameter_counts()
    print(f"COMPUTED, not measured. Mistral-7B {n['llm'] / 1e9:.2f}B parameters, CLIP ViT-L/14-336 "
          f"{n['vision'] / 1e6:.0f}M (frozen), projector {n['projector'] / 1e6:.1f}M, "
          f"LoRA r={args.lora_r} {lora_parameters(args.lora_r) / 1e6:.0f}M; "
          f"{args.seq_len} tokens per example; {args.gpu_gib:g} GiB usable, 2 GiB reserved.\n")
    print("| setting | flags | trainable | weights, grads, Adam states | activations per example | "
          "largest micro-batch | total at micro-batch 4 |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for r in rows(args.seq_len, args.gpu_gib, args.lora_r):
        fits = str(r["max_micro_batch"]) if r["max_micro_batch"] else "does not fit"
        print(f"| {r['setting']} | `{r['flags']}` | {r['trainable'] / 1e9:.2f}B | {r['static_gib']:.1f} GiB | "
              f"{r['act_gib_per_seq']:.2f} GiB | {fits} | {r['total_at_4']:.1f} GiB |")


if __name__ == "__main__":
    main()
