"""Records for text-only families (decoders, encoders, encoder-decoders, SSM hybrids).

Each record states what the field names cannot: a constraint between fields (derived from the drawn ones), a fixed
value a tiny model needs, inputs beyond token ids (boxes, regions, audio features, embeddings), or a version-gated
reason the family cannot run here.
"""

from __future__ import annotations

from typing import Any

import torch

from harness.archs.inputs import text_and, unless_tokens
from harness.archs.records import ArchRecord, Derive, Gate


def _gpt_neo_pattern(o: dict[str, Any]) -> dict[str, Any]:
    """GPT-Neo expands ``attention_types`` into its per-layer list: state the shrunk list once."""
    return {"attention_types": [[o["attention_layers"], 1]]}


def _mamba2_heads(o: dict[str, Any]) -> dict[str, Any]:
    """Mamba-2 checks num_heads x head_dim == expand x hidden: the head width follows the drawn heads."""
    return {"head_dim": o["expand"] * o["hidden_size"] // o["num_heads"]}


def _then_attention(layer_field: str, other: str, attention: str, count: int = 1) -> Derive:
    """A hybrid whose default has no usable layer pattern: ``other`` layers, then ``count`` ``attention`` layers."""

    def derive(o: dict[str, Any]) -> dict[str, Any]:
        return {layer_field: [other] * (_layers(o) - count) + [attention] * count}

    return derive


def _layers(o: dict[str, Any]) -> int:
    return next(o[name] for name in ("num_hidden_layers", "num_layers") if name in o)


def _reformer_axial(o: dict[str, Any]) -> dict[str, Any]:
    """Axial position factors: embedding widths that sum to the hidden size, a shape that spans the positions."""
    hidden, positions = o["hidden_size"], o["max_position_embeddings"]
    return {"axial_pos_embds_dim": [hidden // 2, hidden - hidden // 2], "axial_pos_shape": [8, positions // 8]}


def _transfo_xl_cutoffs(o: dict[str, Any]) -> dict[str, Any]:
    """Adaptive softmax clusters inside the drawn vocabulary; div_val 2 keeps every cluster at least one wide."""
    vocab = o["vocab_size"]
    return {"cutoffs": [vocab // 4, vocab // 2], "div_val": 2}


def _dbrx_attention(o: dict[str, Any]) -> dict[str, Any]:
    """DBRX attention: kv heads from the drawn geometry; clip_qkv set (4.45's eager path clamps with None bounds
    otherwise); rope_theta given (5.x modeling reads it from the attention config, which does not define it)."""
    kv_heads = o.get("num_key_value_heads", 1)
    return {"attn_config": {**o["attn_config"], "kv_n_heads": kv_heads, "clip_qkv": 8.0, "rope_theta": 10000.0}}


#: the fields that make two parts of a composite the same width (heads and their width included)
_WIDTHS = ("hidden_size", "num_attention_heads", "num_key_value_heads", "head_dim")


def _same_widths(source: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
    """``target`` with the widths of ``source`` (those both declare)."""
    return {**target, **{k: source[k] for k in _WIDTHS if k in source and k in target}}


def _t5gemma2_balanced(o: dict[str, Any]) -> dict[str, Any]:
    """T5Gemma2 refuses an encoder whose text model is not as wide as the decoder."""
    encoder = o["encoder"]
    return {"encoder": {**encoder, "text_config": _same_widths(o["decoder"], encoder["text_config"])}}


def _bert_pair(o: dict[str, Any]) -> dict[str, Any]:
    """A BERT encoder and a BERT decoder with cross-attention, sharing the pad id."""
    encoder, decoder = o["encoder"], o["decoder"]
    return {
        "encoder": {**encoder, "pad_token_id": decoder["pad_token_id"]},
        "decoder": {**decoder, "is_decoder": True, "add_cross_attention": True},
        "decoder_start_token_id": decoder.get("bos_token_id", decoder["pad_token_id"]),
        "pad_token_id": decoder["pad_token_id"],
    }


def _lilt_widths(o: dict[str, Any]) -> dict[str, Any]:
    """LiLT splits the hidden width six ways for box coordinates and shrinks it 4x for its layout stream, whose
    heads must still divide it: 12 per head."""
    return {"hidden_size": 12 * o["num_attention_heads"], "channel_shrink_ratio": 4}


def _layoutlmv3_widths(o: dict[str, Any]) -> dict[str, Any]:
    """Four coordinate and two shape embeddings are concatenated into the hidden width."""
    hidden = o["hidden_size"]
    return {"coordinate_size": hidden // 8, "shape_size": hidden // 4}


def _twice_the_heads(o: dict[str, Any]) -> dict[str, Any]:
    """MiMo-V2-Flash's sliding layers take twice the kv heads, which must still divide the heads: twice the heads."""
    return {"num_attention_heads": 2 * o["num_attention_heads"]}


def _latents_as_wide_as_inputs(o: dict[str, Any]) -> dict[str, Any]:
    """Perceiver latents as wide as the inputs."""
    return {"d_latents": o["d_model"]}


def _blt_parts(o: dict[str, Any]) -> dict[str, Any]:
    """BLT's byte-level parts share the byte vocabulary and the local encoder's width and heads (they cross-attend
    to each other); the n-gram hash tables are small; entropy patching runs where the model does."""
    encoder = o["encoder_config"]
    shared = {k: encoder[k] for k in ("hidden_size", "num_attention_heads", "num_key_value_heads") if k in encoder}
    parts = {key: {**o[key], **shared} for key in ("encoder_config", "decoder_config", "patcher_config",
                                                    "global_config")}
    for key in ("encoder_config", "decoder_config", "patcher_config"):
        parts[key]["vocab_size"] = o["vocab_size"]
    for key in ("encoder_config", "decoder_config"):
        parts[key]["hidden_size_global"] = encoder["hidden_size"]
    # the 5.x cache sizes itself from the outer config's layer count, which BltConfig does not define; every part
    # indexes it from layer 0
    layers = max(parts[key]["num_hidden_layers"] for key in parts)
    return {**parts, "encoder_hash_byte_group_vocab": 64, "patching_device": "cpu", "num_hidden_layers": layers}


def _kv_sharing(o: dict[str, Any]) -> dict[str, Any]:
    """The last layer reuses the cache of the last earlier layer of its kind, and every kind needs a layer that
    computes its own cache: each kind once, then the last kind again (Gemma4 wants a full-attention last layer),
    shared."""
    kinds = list(dict.fromkeys(o["layer_types"]))
    return {"layer_types": kinds + kinds[-1:], "num_kv_shared_layers": 1, "num_hidden_layers": len(kinds) + 1}


def _gemma4(o: dict[str, Any]) -> dict[str, Any]:
    """KV sharing as Gemma3n; full-attention layers take their own head width (a keyword the config pops)."""
    return {**_kv_sharing(o), "global_head_dim": 2 * o["head_dim"]}


def _cohere_compass_rope(o: dict[str, Any]) -> dict[str, Any]:
    """Rotary parameters per layer kind (the default gives none, and the model looks them up by kind)."""
    return {"rope_parameters": {kind: {"rope_type": "default", "rope_theta": 10000.0}
                                for kind in dict.fromkeys(o["layer_types"])}}


def _qwen4_exp_indexer(o: dict[str, Any]) -> dict[str, Any]:
    """Qwen4-Exp's token indexer (QSA) must be configured completely: one key head, a head at least as wide as the
    rotary part, a budget that is a multiple of the block size."""
    head_dim = o.get("head_dim") or o["hidden_size"] // o["num_attention_heads"]
    return {"indexer_n_heads": 2, "indexer_kv_heads": 1, "indexer_head_dim": head_dim, "indexer_budget": 4,
            "indexer_compress_ratio": 2, "hc_lowrank": 8}


def _dots3_sliding_layers(o: dict[str, Any]) -> dict[str, Any]:
    """Sliding layers take their own latent-attention geometry from ``swa_*`` keywords (defaults sized for the
    release): the drawn one, with the head width split into its rotary and non-rotary halves."""
    width = o["qk_rope_head_dim"]
    same = ("num_attention_heads", "q_lora_rank", "kv_lora_rank", "v_head_dim", "qk_nope_head_dim", "qk_rope_head_dim")
    return {**{f"swa_{name}": o[name] for name in same}, "swa_num_key_value_heads": o["num_attention_heads"],
            "swa_head_dim": 2 * width}


def _dots3_vision_experts(o: dict[str, Any]) -> dict[str, Any]:
    """The vision tower's routed-expert pyramid (a keyword, sized for 42 layers by default): dense layers, then
    experts in the last one."""
    return {"pyramid_num_routed": [-1] * (o["num_hidden_layers"] - 1) + [o["num_local_experts"]]}


def _boxes(config: Any, inputs: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, torch.Tensor]:
    """One normalised box (x0, y0, x1, y1) per token, corners ordered."""
    batch, length = inputs["input_ids"].shape
    corners = torch.rand(batch, length, 2, 2, generator=generator).sort(dim=-1).values  # (x0, x1), (y0, y1)
    return {"bbox": corners.transpose(-1, -2).reshape(batch, length, 4)}


def _first_token_global(config: Any, inputs: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, Any]:
    """Longformer's QA head otherwise looks for question/answer separators to place global attention."""
    mask = torch.zeros_like(inputs["input_ids"])
    mask[:, 0] = 1
    return {"global_attention_mask": mask}


def _visual_regions(config: Any, inputs: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, Any]:
    """Two detected regions per row: features and normalised box positions."""
    batch = inputs["input_ids"].shape[0]
    return {"visual_feats": torch.randn(batch, 2, config.visual_feat_dim, generator=generator),
            "visual_pos": torch.rand(batch, 2, config.visual_pos_dim, generator=generator)}


def _log_mel(config: Any, inputs: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, Any]:
    """Whisper's encoder reads a log-mel spectrogram of exactly twice its position count in frames."""
    batch = inputs["input_ids"].shape[0]
    frames = 2 * config.max_source_positions
    return {"input_features": torch.randn(batch, config.num_mel_bins, frames, generator=generator)}


def _latent_inputs(config: Any, inputs: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, Any]:
    """A Perceiver without a preprocessor reads embeddings of the model width."""
    batch, length = inputs["input_ids"].shape
    return {"inputs": torch.randn(batch, length, config.d_model, generator=generator)}


def _audio_per_token(config: Any, inputs: dict[str, torch.Tensor], generator: torch.Generator) -> dict[str, Any]:
    """Voxtral Realtime adds one audio embedding to every text position: ``audio_length_per_tok`` mel frames per
    token."""
    batch, length = inputs["input_ids"].shape
    frames = int(config.audio_length_per_tok) * length
    return {"input_features": torch.randn(batch, config.audio_config.num_mel_bins, frames, generator=generator)}


RECORDS: tuple[ArchRecord, ...] = (
    # decoders
    ArchRecord(("codegen",), heads_multiple_of=4, note="qkv is split into 4 model-parallel groups of heads"),
    ArchRecord(("gpt_neo",), derive=_gpt_neo_pattern, keep=("attention_layers",),
               note="per-layer attention kinds come from attention_types"),
    ArchRecord(("jetmoe",), keep=("num_attention_heads",), note="query heads = kv heads x experts per token"),
    ArchRecord(("dbrx",), derive=_dbrx_attention, note="attention sub-config completed"),
    ArchRecord(("diffllama",), heads_multiple_of=2, note="differential attention splits heads and kv heads in two"),
    ArchRecord(("xlnet", "helium"), explicit_head_dim=False, note="head width must be hidden / heads"),
    ArchRecord(("mega",), fixed={"bidirectional": False}, note="a decoder's EMA must be unidirectional"),
    ArchRecord(("xlstm",), fixed={"hidden_size": 64, "qk_dim_factor": 1.0, "v_dim_factor": 1.0},
               note="the state cache rounds q/k/v widths up to 64: make them 64 exactly"),
    ArchRecord(("rwkv",), min_layers=2, note="weight init divides by layers - 1"),
    ArchRecord(("transfo-xl",), derive=_transfo_xl_cutoffs, note="adaptive softmax cutoffs inside the vocabulary",
               unsupported=(Gate("<5", "its forward calls tensor.type_as(dtype=...), a TypeError "
                                       "(transformers#29650)"),)),
    ArchRecord(("reformer",), derive=_reformer_axial, note="axial position factors follow hidden size and positions"),
    ArchRecord(("musicgen_decoder", "musicgen_melody_decoder"), fixed={"num_codebooks": 1},
               note="one codebook: the input ids are plain (batch, length) tokens"),
    ArchRecord(("mllama_text_model",), fixed={"rope_scaling": {"rope_type": "default"}}, min_layers=2,
               note="the text model needs a rope config; the last layer cross-attends, the others self-attend"),
    ArchRecord(("gemma3n_text",), derive=_kv_sharing, min_layers=3,
               note="KV sharing across layers of the same kind, with each kind computed once first"),
    ArchRecord(("gemma4_text", "gemma4_unified_text"), derive=_gemma4, min_layers=3,
               note="KV sharing as Gemma3n; wider heads in full-attention layers"),
    ArchRecord(("cohere_compass_text",), derive=_cohere_compass_rope, note="rotary parameters per layer kind"),
    ArchRecord(("qwen4_exp_text",), derive=_qwen4_exp_indexer,
               note="the token indexer configured completely; a small hyper-connection rank"),
    ArchRecord(("dots3_note_text",), derive=_dots3_sliding_layers, note="sliding layers sized like the others"),
    ArchRecord(("dots3_note_vision_encoder",), derive=_dots3_vision_experts, note="experts in the last tower layer"),
    ArchRecord(("mimo_v2_flash",), derive=_twice_the_heads,
               note="sliding layers double the kv heads, which must still divide the heads"),
    ArchRecord(("longcat_flash",), fixed={"moe_topk": 2}, note="5.x expert dispatch squeezes away a top-1 axis"),
    ArchRecord(("zaya",), fixed={"num_experts_per_tok": 1}, note="ZAYA routes to one expert"),
    ArchRecord(("blt",), derive=_blt_parts, note="byte-level parts coupled through vocabulary and widths"),
    # emu3 and emu3_vqgan: see families/vq.py (image words in the reserved band, a tiny VQ-VAE)
    ArchRecord(("phi4_multimodal",), parts={"vision_config": "phi4_multimodal_vision"},
               note="the model always builds its image embedder, whose config the default leaves out"),
    ArchRecord(("mimi",), fixed={"codebook_size": 16}, note="the audio codebook size must be a power of 2"),
    # state-space and convolution hybrids (each keeps an attention layer)
    ArchRecord(("jamba",), fixed={"attn_layer_period": 1, "attn_layer_offset": 0, "expert_layer_period": 1,
                                   "expert_layer_offset": 0}, note="attention at every layer keeps one in 2"),
    ArchRecord(("mamba2",), derive=_mamba2_heads, note="SSM heads x head width = expand x hidden"),
    ArchRecord(("granitemoehybrid",), derive=_then_attention("layer_types", "mamba", "attention"), min_layers=2,
               note="the default layer pattern is missing"),
    ArchRecord(("lfm2_moe",), derive=_then_attention("layer_types", "conv", "full_attention"), min_layers=2,
               note="the default layer pattern is missing"),
    ArchRecord(("zamba",), derive=_then_attention("layers_block_type", "mamba", "hybrid", count=2), min_layers=3,
               note="5.x ties the shared block of every hybrid layer to the first: two hybrid layers"),
    # encoders
    ArchRecord(("xmod",), fixed={"default_language": "en_XX"}, note="adapters are per language: name the default"),
    ArchRecord(("funnel",), fixed={"block_sizes": [1, 1]}, keep=("pad_token_id",),
               note="two one-layer blocks (one pooling step); 4.45's weight init breaks when a pad id is set"),
    ArchRecord(("canine",), fixed={"num_hash_buckets": 64, "num_hash_functions": 4},
               note="hash-bucket tables sized by the bucket count; each of the 4 hashes takes a quarter of the width"),
    ArchRecord(("markuplm",), fixed={"max_depth": 4, "xpath_unit_hidden_size": 8, "max_xpath_tag_unit_embeddings": 16,
                                     "max_xpath_subs_unit_embeddings": 16, "tag_pad_id": 15, "subs_pad_id": 15},
               note="XPath embeddings: a shallow depth, small tag/subscript tables, pad ids inside them"),
    ArchRecord(("perceiver",), derive=_latents_as_wide_as_inputs,
               fixed={"num_latents": 8, "num_self_attends_per_block": 1},
               inputs=unless_tokens(_latent_inputs),
               note="latents as wide as the inputs, few of them, one self-attention per block"),
    ArchRecord(("esmc",), grouped_kv=False, explicit_head_dim=False, note="plain multi-head attention"),
    ArchRecord(("longformer",), inputs=text_and(_first_token_global),
               note="global attention on the first token"),
    ArchRecord(("lilt",), derive=_lilt_widths, note="box embeddings and the layout stream divide the width"),
    ArchRecord(("layoutlmv3",), derive=_layoutlmv3_widths, explicit_head_dim=False,
               note="box embeddings are concatenated into the width (a multiple of 8)"),
    ArchRecord(("bros",), fixed={"hidden_size": 64}, inputs=text_and(_boxes),
               note="a box per token; each of 8 coordinates gets a sinusoid of width hidden / 32, which must be even"),
    ArchRecord(("lxmert",), fixed={"num_qa_labels": 4, "num_object_labels": 4, "num_attr_labels": 4},
               inputs=text_and(_visual_regions),
               note="visual region features next to the text; few answer labels"),
    ArchRecord(("whisper",), inputs=unless_tokens(_log_mel),
               note="the base model's encoder reads audio features"),
    # encoder-decoders
    ArchRecord(("voxtral_realtime",), inputs=text_and(_audio_per_token),
               note="streaming transcription: audio frames aligned with the text positions"),
    ArchRecord(("seamless_m4t", "seamless_m4t_v2"), fixed={"upsample_initial_channel": 32},
               note="the vocoder halves its channels at each of 5 upsampling steps: start with 32"),
    ArchRecord(("t5gemma2",), derive=_t5gemma2_balanced, note="encoder text model as wide as the decoder"),
    ArchRecord(("encoder-decoder",), parts={"encoder": "bert", "decoder": "bert"}, derive=_bert_pair,
               note="the generic encoder-decoder composite, as BERT to BERT"),
    # families that cannot run here, with the reason
    ArchRecord(("speech_to_text_2",), unsupported=(
        Gate(">=4.51,<5", "weight init reads .weight of its sinusoidal position table, which has none"),)),
    ArchRecord(("fsmt",), unsupported=(
        Gate(">=4.56,<5", "the decoder builds its cache from self.config, which FSMTDecoder does not have"),)),
    ArchRecord(("gemma4_assistant", "gemma4_unified_assistant"), unsupported=(
        Gate(">=5", "a speculative-decoding assistant: its forward needs the target model's embeddings and shared "
                    "KV states"),)),
    ArchRecord(("vibevoice_asr", "nemo_speechlm"), unsupported=(
        Gate(">=5", "speech recognition: the encoder reads audio (features or a waveform tokenizer) that the text "
                    "zoo does not draw, and its audio parts are not shrunk"),)),
)
