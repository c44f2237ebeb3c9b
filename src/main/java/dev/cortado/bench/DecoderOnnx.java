package dev.cortado.bench;

import static dev.cortado.bench.OnnxWriter.a;

import dev.cortado.bench.SafetensorsWriter.Entry;
import dev.cortado.bench.SafetensorsWriter.Location;
import dev.cortado.bench.SyntheticModels.Family;
import dev.cortado.bench.SyntheticModels.Spec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a decoder-only ONNX graph in the Optimum layout ({@code input_ids, attention_mask, position_ids,
 * past_key_values.N.key|value → logits, present.N.key|value}; KV [batch, kv_heads, seq, head_dim]) from standard
 * opset-17 ops, for the Llama/Qwen2 and GPT-2 shapes. A Java port of
 * {@code shared/models/stories260K/tools/export_onnx.py}, extended with q/k/v biases (Qwen2), llama3 rope scaling
 * and the GPT-2 block (LayerNorm, fused c_attn, gelu_new, learned positions). Weights stay in the safetensors file
 * (ONNX external data, HF [out, in] layout, consumed through Transpose, which ONNX Runtime folds once at load).
 */
final class DecoderOnnx {
    private DecoderOnnx() {}

    /**
     * How a linear layer is written: {@code x · W} for the weight named {@code name}, stored [in, out] ({@code inOut},
     * GPT-2's Conv1D) or [out, in] (HF Linear). The float graph uses MatMul (through a Transpose for [out, in]);
     * {@link Int4Onnx} writes com.microsoft MatMulNBits nodes instead.
     */
    interface Linears {
        String matmul(OnnxWriter g, String x, String name, boolean inOut, String tag);
    }

    static byte[] build(Spec s, List<Entry> entries, Map<String, Location> where, String location) {
        OnnxWriter g = new OnnxWriter();
        Map<String, long[]> shapes = new HashMap<>();
        for (Entry e : entries) shapes.put(e.name(), e.shape());
        Map<String, String> bound = new HashMap<>();   // each initializer once (the tied table feeds Gather and lm_head)
        java.util.function.Function<String, String> w = name -> bound.computeIfAbsent(name, n -> {
            Location loc = where.get(n);
            return g.external(n, shapes.get(n), location, loc.offset(), loc.length());
        });
        Linears lin = (gr, x, name, inOut, tag) -> inOut ? gr.node("MatMul", tag, new String[] {x, w.apply(name)})
                : gr.node("MatMul", tag, new String[] {x, gr.node("Transpose", tag + "_wT", new String[] {w.apply(name)}, a("perm", new long[] {1, 0}))});
        return build(s, g, w, lin, "built by dev.cortado.bench.DecoderOnnx");
    }

    /** The graph with float initializers from {@code w} and linears written by {@code lin}. */
    static byte[] build(Spec s, OnnxWriter g, java.util.function.Function<String, String> w, Linears lin, String provenance) {
        int nh = s.heads(), nkv = s.kvHeads(), hs = s.headDim(), dim = s.hidden(), layers = s.layers();
        g.input("input_ids", OnnxWriter.INT64, "batch_size", "sequence_length");
        g.input("attention_mask", OnnxWriter.INT64, "batch_size", "total_sequence_length");
        g.input("position_ids", OnnxWriter.INT64, "batch_size", "sequence_length");
        for (int l = 0; l < layers; l++) {
            for (String kv : new String[] {"key", "value"}) {
                g.input("past_key_values." + l + "." + kv, OnnxWriter.FLOAT, "batch_size", (long) nkv, "past_sequence_length", (long) hs);
            }
        }
        g.output("logits", OnnxWriter.FLOAT, "batch_size", "sequence_length", (long) s.vocab());
        for (int l = 0; l < layers; l++) {
            for (String kv : new String[] {"key", "value"}) {
                g.output("present." + l + "." + kv, OnnxWriter.FLOAT, "batch_size", (long) nkv, "total_sequence_length", (long) hs);
            }
        }
        boolean gpt2 = s.family() == Family.GPT2;
        String eps = gpt2 ? null : g.scalar("const_eps", (float) s.eps());
        String two = gpt2 ? null : g.scalar("const_two", 2f);
        String scale = g.scalar("const_attn_scale", (float) (1.0 / Math.sqrt(hs)));
        String neg = g.scalar("const_mask_min", -Float.MAX_VALUE);
        String i0 = g.longs("const_i64_0", new long[0], 0), i1 = g.longs("const_i64_1", new long[0], 1);
        String ax12 = g.vec("const_axes_1_2", 1, 2), axm1 = g.vec("const_axes_m1", -1);
        String shpQ = g.vec("shape_q", 0, 0, nh, hs), shpKv = g.vec("shape_kv", 0, 0, nkv, hs);
        String shpGrp = g.vec("shape_group", 0, nkv, -1, hs), shpScH = g.vec("shape_scores_heads", 0, nh, -1, 0);
        String shpScG = g.vec("shape_scores_group", 0, nkv, -1, 0), shpOH = g.vec("shape_out_heads", 0, nh, -1, hs);
        String shpO = g.vec("shape_out", 0, 0, dim);

        // mask: allowed[b,0,i,j] = attention_mask[b,j] && j <= past_len + i
        String seqLen = g.node("Gather", "seq_len", new String[] {g.node("Shape", "shape_ids", new String[] {"input_ids"}), i1}, a("axis", 0));
        String totLen = g.node("Gather", "total_len", new String[] {g.node("Shape", "shape_am", new String[] {"attention_mask"}), i1}, a("axis", 0));
        String pastLen = g.node("Sub", "past_len", new String[] {totLen, seqLen});
        String kpos = g.node("Range", "key_positions", new String[] {i0, totLen, i1});
        String qpos = g.node("Add", "query_positions", new String[] {g.node("Range", "q_range", new String[] {i0, seqLen, i1}), pastLen});
        String causal = g.node("LessOrEqual", "causal", new String[] {kpos, g.node("Unsqueeze", "qpos_col", new String[] {qpos, axm1})});
        String am4 = g.node("Unsqueeze", "am_4d", new String[] {g.node("Cast", "am_bool", new String[] {"attention_mask"}, a("to", OnnxWriter.BOOL)), ax12});
        String allowed = g.node("And", "allowed", new String[] {causal, am4});

        String embName = gpt2 ? "wte.weight" : "model.embed_tokens.weight";
        String emb = w.apply(embName);
        String x = g.node("Gather", "embed", new String[] {emb, "input_ids"}, a("axis", 0));
        String cos = null, sin = null;
        if (gpt2) {
            x = g.node("Add", "embed_pos", new String[] {x, g.node("Gather", "wpe", new String[] {w.apply("wpe.weight"), "position_ids"}, a("axis", 0))});
        } else {
            String ax1 = g.vec("const_axes_1", 1);
            float[][] cs = ropeTables(s);
            String cosT = g.floats("rope_cos_table", new long[] {s.maxPos(), hs}, cs[0]);
            String sinT = g.floats("rope_sin_table", new long[] {s.maxPos(), hs}, cs[1]);
            cos = g.node("Unsqueeze", "cos", new String[] {g.node("Gather", "cos_g", new String[] {cosT, "position_ids"}, a("axis", 0)), ax1});
            sin = g.node("Unsqueeze", "sin", new String[] {g.node("Gather", "sin_g", new String[] {sinT, "position_ids"}, a("axis", 0)), ax1});
        }
        String hStart = null, hMid = null, hEnd = null, splitSizes = null, c3 = null, cHalf = null, cOne = null, cGelu = null, cSqrt = null;
        if (gpt2) {
            splitSizes = g.vec("const_qkv_split", dim, dim, dim);
            c3 = g.scalar("const_three", 3f);
            cHalf = g.scalar("const_half", 0.5f);
            cOne = g.scalar("const_one", 1f);
            cGelu = g.scalar("const_gelu_a", 0.044715f);
            cSqrt = g.scalar("const_gelu_s", (float) Math.sqrt(2 / Math.PI));
        } else {
            hStart = g.vec("const_half_start", 0);
            hMid = g.vec("const_half_mid", hs / 2);
            hEnd = g.vec("const_half_end", hs);
        }
        for (int l = 0; l < layers; l++) {
            String tg = "l" + l;
            String q, k, v;
            String p = gpt2 ? "h." + l + "." : "model.layers." + l + ".";
            String hN = gpt2 ? layerNorm(g, x, w.apply(p + "ln_1.weight"), w.apply(p + "ln_1.bias"), s.eps(), tg + "_ln1")
                    : rmsNorm(g, x, w.apply(p + "input_layernorm.weight"), eps, two, tg + "_ln1");
            if (gpt2) {
                String qkv = g.node("Add", tg + "_qkv_b", new String[] {
                        lin.matmul(g, hN, p + "attn.c_attn.weight", true, tg + "_qkv"), w.apply(p + "attn.c_attn.bias")});
                String[] parts = g.nodeMulti("Split", tg + "_split", new String[] {qkv, splitSizes}, 3, a("axis", -1));
                q = parts[0]; k = parts[1]; v = parts[2];
            } else {
                q = linearT(g, w, lin, hN, p + "self_attn.q_proj", s.family() == Family.QWEN2, tg + "_q");
                k = linearT(g, w, lin, hN, p + "self_attn.k_proj", s.family() == Family.QWEN2, tg + "_k");
                v = linearT(g, w, lin, hN, p + "self_attn.v_proj", s.family() == Family.QWEN2, tg + "_v");
            }
            q = g.node("Transpose", tg + "_q_t", new String[] {g.node("Reshape", tg + "_q_r", new String[] {q, shpQ})}, a("perm", new long[] {0, 2, 1, 3}));
            k = g.node("Transpose", tg + "_k_t", new String[] {g.node("Reshape", tg + "_k_r", new String[] {k, shpKv})}, a("perm", new long[] {0, 2, 1, 3}));
            v = g.node("Transpose", tg + "_v_t", new String[] {g.node("Reshape", tg + "_v_r", new String[] {v, shpKv})}, a("perm", new long[] {0, 2, 1, 3}));
            if (!gpt2) {
                q = rope(g, q, cos, sin, hStart, hMid, hEnd, axm1, tg + "_q");
                k = rope(g, k, cos, sin, hStart, hMid, hEnd, axm1, tg + "_k");
            }
            String kk = "present." + l + ".key", vv = "present." + l + ".value";
            g.nodeTo("Concat", new String[] {"past_key_values." + l + ".key", k}, new String[] {kk}, a("axis", 2));
            g.nodeTo("Concat", new String[] {"past_key_values." + l + ".value", v}, new String[] {vv}, a("axis", 2));
            String qg = g.node("Reshape", tg + "_q_group", new String[] {q, shpGrp});
            String kt = g.node("Transpose", tg + "_k_T", new String[] {kk}, a("perm", new long[] {0, 1, 3, 2}));
            String sc = g.node("Mul", tg + "_scores", new String[] {g.node("MatMul", tg + "_scores_raw", new String[] {qg, kt}), scale});
            sc = g.node("Reshape", tg + "_scores_heads", new String[] {sc, shpScH});
            sc = g.node("Where", tg + "_scores_masked", new String[] {allowed, sc, neg});
            String pr = g.node("Softmax", tg + "_probs", new String[] {sc}, a("axis", -1));
            pr = g.node("Reshape", tg + "_probs_group", new String[] {pr, shpScG});
            String o = g.node("MatMul", tg + "_attn", new String[] {pr, vv});
            o = g.node("Reshape", tg + "_attn_heads", new String[] {o, shpOH});
            o = g.node("Transpose", tg + "_attn_t", new String[] {o}, a("perm", new long[] {0, 2, 1, 3}));
            o = g.node("Reshape", tg + "_attn_flat", new String[] {o, shpO});
            if (gpt2) {
                o = g.node("Add", tg + "_o_b", new String[] {lin.matmul(g, o, p + "attn.c_proj.weight", true, tg + "_o"), w.apply(p + "attn.c_proj.bias")});
            } else {
                o = linearT(g, w, lin, o, p + "self_attn.o_proj", false, tg + "_o");
            }
            x = g.node("Add", tg + "_resid1", new String[] {x, o});
            String m;
            if (gpt2) {
                hN = layerNorm(g, x, w.apply(p + "ln_2.weight"), w.apply(p + "ln_2.bias"), s.eps(), tg + "_ln2");
                String fc = g.node("Add", tg + "_fc_b", new String[] {lin.matmul(g, hN, p + "mlp.c_fc.weight", true, tg + "_fc"), w.apply(p + "mlp.c_fc.bias")});
                // gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
                String cube = g.node("Mul", tg + "_g3", new String[] {g.node("Pow", tg + "_gpow", new String[] {fc, c3}), cGelu});
                String inner = g.node("Mul", tg + "_gin", new String[] {g.node("Add", tg + "_gadd", new String[] {fc, cube}), cSqrt});
                String th = g.node("Add", tg + "_g1p", new String[] {g.node("Tanh", tg + "_gtanh", new String[] {inner}), cOne});
                String act = g.node("Mul", tg + "_gelu", new String[] {g.node("Mul", tg + "_ghalf", new String[] {fc, cHalf}), th});
                m = g.node("Add", tg + "_down_b", new String[] {lin.matmul(g, act, p + "mlp.c_proj.weight", true, tg + "_down"), w.apply(p + "mlp.c_proj.bias")});
            } else {
                hN = rmsNorm(g, x, w.apply(p + "post_attention_layernorm.weight"), eps, two, tg + "_ln2");
                String gate = linearT(g, w, lin, hN, p + "mlp.gate_proj", false, tg + "_gate");
                String up = linearT(g, w, lin, hN, p + "mlp.up_proj", false, tg + "_up");
                String act = g.node("Mul", tg + "_silu", new String[] {gate, g.node("Sigmoid", tg + "_sigmoid", new String[] {gate})});
                m = linearT(g, w, lin, g.node("Mul", tg + "_gated", new String[] {act, up}), p + "mlp.down_proj", false, tg + "_down");
            }
            x = g.node("Add", tg + "_resid2", new String[] {x, m});
        }
        x = gpt2 ? layerNorm(g, x, w.apply("ln_f.weight"), w.apply("ln_f.bias"), s.eps(), "final_norm")
                : rmsNorm(g, x, w.apply("model.norm.weight"), eps, two, "final_norm");
        // the tied lm_head: x · embᵀ (float: MatMul over a Transpose of the table; int4: its own MatMulNBits weight)
        g.nodeTo("Identity", new String[] {lin.matmul(g, x, embName, false, "lm_head")}, new String[] {"logits"});
        return g.model(s.name() + "_decoder_with_past", "cortado-bench", "cortado synthetic " + s.name()
                + " (seeded random weights), Optimum decoder layout, " + provenance);
    }

    private static String linearT(OnnxWriter g, java.util.function.Function<String, String> w, Linears lin, String x, String p, boolean bias, String tg) {
        String y = lin.matmul(g, x, p + ".weight", false, tg);
        return bias ? g.node("Add", tg + "_b", new String[] {y, w.apply(p + ".bias")}) : y;
    }

    private static String rmsNorm(OnnxWriter g, String x, String gamma, String eps, String two, String tg) {
        String ms = g.node("ReduceMean", tg + "_mean", new String[] {g.node("Pow", tg + "_sq", new String[] {x, two})},
                a("axes", new long[] {-1}), a("keepdims", 1));
        String rt = g.node("Sqrt", tg + "_sqrt", new String[] {g.node("Add", tg + "_addeps", new String[] {ms, eps})});
        return g.node("Mul", tg + "_out", new String[] {g.node("Div", tg + "_div", new String[] {x, rt}), gamma});
    }

    private static String layerNorm(OnnxWriter g, String x, String gamma, String beta, double eps, String tg) {
        return g.node("LayerNormalization", tg, new String[] {x, gamma, beta}, a("axis", -1), a("epsilon", (float) eps));
    }

    private static String rope(OnnxWriter g, String t4, String cos, String sin, String hStart, String hMid, String hEnd, String axm1, String tg) {
        String x1 = g.node("Slice", tg + "_x1", new String[] {t4, hStart, hMid, axm1});
        String x2 = g.node("Slice", tg + "_x2", new String[] {t4, hMid, hEnd, axm1});
        String rot = g.node("Concat", tg + "_rot", new String[] {g.node("Neg", tg + "_negx2", new String[] {x2}), x1}, a("axis", -1));
        return g.node("Add", tg + "_rope", new String[] {g.node("Mul", tg + "_xcos", new String[] {t4, cos}),
                g.node("Mul", tg + "_rsin", new String[] {rot, sin})});
    }

    /** HF rotary tables (float32): emb = cat(freqs, freqs), with llama3 scaling when the spec asks for it. */
    static float[][] ropeTables(Spec s) {
        int hs = s.headDim();
        float[] inv = new float[hs / 2];
        for (int i = 0; i < inv.length; i++) inv[i] = (float) (1.0 / Math.pow(s.ropeTheta(), (2.0 * i) / hs));
        if (s.llama3Rope()) dev.cortado.model.llama.LlamaFamily.llama3Scaling(inv, 32, 1, 4, 8192);
        float[] cos = new float[s.maxPos() * hs], sin = new float[s.maxPos() * hs];
        for (int p = 0; p < s.maxPos(); p++) {
            for (int i = 0; i < hs / 2; i++) {
                float fr = (float) p * inv[i];
                float c = (float) Math.cos(fr), sn = (float) Math.sin(fr);
                cos[p * hs + i] = c; cos[p * hs + i + hs / 2] = c;
                sin[p * hs + i] = sn; sin[p * hs + i + hs / 2] = sn;
            }
        }
        return new float[][] {cos, sin};
    }
}
