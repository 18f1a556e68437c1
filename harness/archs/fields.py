"""Config field roles: which field names of which config classes mean "layers", "hidden width", "heads", …

This table is data. The generic shrink (``harness.archs.strategies``) sets every field of a role that the config
declares, so an architecture with no record of its own is shrunk by name alone. Names are matched exactly,
after resolving the config class's ``attribute_map``. Fields the config computes from others (no ``__init__``
parameter, or a ``None`` default it fills in) are left to the config, except the roles in ``DRAWN_EVEN_IF_COMPUTED``.
"""

from __future__ import annotations

from typing import Final

#: number of transformer layers (also per-stack counts of encoder-decoder models)
LAYERS: Final = (
    "num_hidden_layers", "num_layers", "n_layer", "n_layers", "num_decoder_layers", "encoder_layers",
    "decoder_layers", "num_encoder_layers", "text_layers", "num_blocks", "depth", "l_layers", "x_layers", "r_layers",
    "speech_encoder_layers", "t2u_encoder_layers", "t2u_decoder_layers", "num_switch_layers",
)
#: attention heads
HEADS: Final = (
    "num_attention_heads", "n_head", "n_heads", "num_heads", "encoder_attention_heads", "decoder_attention_heads",
    "num_decoder_attention_heads", "num_self_attention_heads", "num_cross_attention_heads",
    "speech_encoder_attention_heads", "t2u_encoder_attention_heads", "t2u_decoder_attention_heads",
    "linear_num_key_heads", "linear_num_value_heads", "linear_num_heads", "index_n_heads", "swa_num_attention_heads",
)
#: key/value heads (GQA / MQA)
KV_HEADS: Final = (
    "num_key_value_heads", "num_kv_heads", "n_kv_heads", "multi_query_group_num", "num_key_value_groups",
    "swa_num_key_value_heads",
)
#: model width
HIDDEN: Final = (
    "hidden_size", "d_model", "n_embd", "dim", "emb_dim", "d_embed", "embed_dim", "model_dim", "width",
    "word_embed_proj_dim", "embedding_size", "input_embedding_size", "output_embedding_size", "true_hidden_size",
    "lru_width", "attention_hidden_size", "pooler_hidden_size", "hidden_dim", "n_embed", "text_hidden_size",
    "d_latents", "hidden_size_per_layer_input",
)
#: per-head width, where the config has an explicit one
HEAD_DIM: Final = (
    "head_dim", "d_kv", "d_head", "attention_head_size", "kv_channels", "dim_head", "head_size", "linear_key_head_dim",
    "linear_value_head_dim", "linear_head_dim", "swa_head_dim",
)
#: feed-forward width
INTERMEDIATE: Final = (
    "intermediate_size", "ffn_dim", "encoder_ffn_dim", "decoder_ffn_dim", "d_ff", "d_inner", "dff", "n_inner",
    "ffn_hidden_size", "feed_forward_size", "dim_ff", "intermediate_dim", "nffn_hidden_size", "moe_intermediate_size",
    "shared_expert_intermediate_size", "intra_bottleneck_size", "inner_hidden_size", "mlp_dim",
)
#: vocabulary sizes (token ids are kept below them)
VOCAB: Final = (
    "vocab_size", "decoder_vocab_size", "src_vocab_size", "tgt_vocab_size", "_vocab_size", "vocab_size_per_layer_input",
)
#: rotary widths, which must not exceed the head width
ROTARY: Final = ("rotary_dim", "rotary_emb_dim", "rotary_ndims")
#: learned position tables and context lengths
POSITIONS: Final = (
    "max_position_embeddings", "n_positions", "n_ctx", "max_seq_len", "max_sequence_length", "max_positions",
    "max_source_positions", "max_target_positions", "max_encoder_position_embeddings", "seq_length",
    "max_decoder_position_embeddings", "context_length", "block_size", "max_seq_length", "max_2d_position_embeddings",
    "t2u_max_position_embeddings",
)
#: sliding-window sizes: drawn sometimes shorter than the sequence
WINDOWS: Final = ("sliding_window", "attention_window_size", "window_size", "local_window_size", "attention_window")
#: MoE expert counts and the matching top-k fields (top-k is drawn at most the count)
EXPERTS: Final = (
    "num_experts", "num_local_experts", "n_routed_experts", "moe_num_experts", "num_experts_total", "zero_expert_num",
)
TOP_K: Final = (
    "num_experts_per_tok", "moe_topk", "num_selected_experts", "moe_top_k", "num_experts_per_token", "top_k_experts",
)
#: MoE layers before the first of these indices are dense: set to the last layer, so every draw has an MoE layer
DENSE_PREFIX: Final = ("first_k_dense_replace", "moe_layer_start_index", "num_dense_layers")
#: MoE routing groups and shared experts, shrunk to one
MOE_SMALL: Final = {
    "n_group": 1, "topk_group": 1, "num_expert_group": 1, "n_shared_experts": 1, "num_shared_experts": 1,
    "moe_num_shared_experts": 1,
}
#: SSM / state-space widths, shrunk to small constants, and the CUDA kernels switched off
SSM_SMALL: Final = {
    "use_mamba_kernels": False,
    "state_size": 4, "d_state": 4, "ssm_state_size": 4, "mamba_d_state": 4, "time_step_rank": 4, "mamba_dt_rank": 4,
    "conv_kernel": 2, "d_conv": 2, "mamba_d_conv": 2, "chunk_size": 8, "mamba_chunk_size": 8, "n_groups": 1,
    "mamba_n_groups": 1, "mamba_expand": 2, "expand": 2, "linear_conv_kernel_dim": 2,
}
#: SSM expansion factors: the SSM inner width is expand x hidden
SSM_EXPAND: Final = ("mamba_expand", "expand")
#: SSM head counts (Mamba-2 style), drawn small; the SSM head width is derived from them
SSM_HEADS: Final = ("mamba_n_heads", "n_mamba_heads", "mamba_num_heads")
SSM_HEAD_DIM: Final = ("mamba_d_head", "mamba_headdim", "mamba_head_dim")
#: explicit SSM inner widths (expand x hidden)
SSM_INNER: Final = ("mamba_d_ssm",)
#: multi-head latent attention (DeepSeek-style): per-head widths follow the drawn head width, ranks are small
MLA_HEAD_DIMS: Final = ("qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")
MLA_SMALL: Final = {"kv_lora_rank": 16, "q_lora_rank": 16, "o_lora_rank": 16}
#: sparse-attention indexer heads (DeepSeek-V3.2 style), which split off a rotary part as wide as the head width
INDEXER_HEAD_DIM: Final = ("index_head_dim", "indexer_head_dim")
#: vision sub-configs: tiny images
VISION_SMALL: Final = {"image_size": 32, "patch_size": 8, "num_channels": 3}
#: fields naming per-layer lists (kept to the drawn layer count, with every kind and at least one attention layer);
#: any other list default as long as the default layer count is per-layer too
LAYER_LISTS: Final = (
    "layer_types", "attention_layers", "attn_layers", "layers_block_type", "block_types", "hybrid_override_pattern",
    "layer_type",
)
#: fields listing layer indices (kept below the drawn layer count; the last layer when none is left)
LAYER_INDEX_LISTS: Final = (
    "cross_attention_layers", "full_attn_idxs", "attn_layer_indices", "mlp_only_layers", "global_attn_indexes",
)
#: list entries that denote an attention layer
ATTENTION_LAYER_VALUES: Final = (
    "full_attention", "attention", "global", "sliding_attention", "local", "attn", "full", "*", "hybrid",
)
#: token-id fields are those whose name ends with one of these
TOKEN_ID_SUFFIXES: Final = ("_token_id", "_token_index", "_token_ids")
#: roles the strategy draws even where the config would compute them (the point is to vary them)
DRAWN_EVEN_IF_COMPUTED: Final = frozenset(HEAD_DIM + KV_HEADS + INTERMEDIATE + LAYER_LISTS + LAYER_INDEX_LISTS + VOCAB)
#: any other integer field at least this large, whose name ends like these, is a width the tables missed
FALLBACK_MIN: Final = 128
FALLBACK_WIDTH_SUFFIXES: Final = ("_size", "_dim", "_channels", "_channel", "_features", "_units", "_hidden")
