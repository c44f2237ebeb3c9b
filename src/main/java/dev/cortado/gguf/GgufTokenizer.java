package dev.cortado.gguf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.CortadoException;
import dev.cortado.tokenizer.Tokenizer;
import dev.cortado.tokenizer.TokenizerConfig;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The tokenizer a GGUF file describes in {@code tokenizer.ggml.*}, built as the tokenizer.json that Hugging Face
 * transformers' GGUF loader builds (integrations/gguf/gguf_tokenizer_mapping.py) and handed to Cortado's own
 * {@link Tokenizer}: {@code llama} = SentencePiece BPE with byte fallback (merges from the file, or derived from the
 * scores like transformers' {@code generate_merges}) and SentencePiece's dummy-prefix normalizer (as llama.cpp); {@code gpt2} = byte-level BPE with the file's merges
 * and the split regex named by {@code tokenizer.ggml.pre} (gpt-2, qwen2, llama3, …). Unknown and control tokens (types 2, 3) become
 * special added tokens (llama.cpp matches them whole in text), user-defined ones (type 4) plain added tokens; BOS is prepended when {@code add_bos_token}.
 */
public final class GgufTokenizer {
    private GgufTokenizer() {}

    static final String QWEN2_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String LLAMA3_SPLIT = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final Map<String, String> SPLITS = Map.ofEntries(
            Map.entry("qwen2", QWEN2_SPLIT), Map.entry("deepseek-r1-qwen", QWEN2_SPLIT), Map.entry("megrez", QWEN2_SPLIT),
            Map.entry("llama3", LLAMA3_SPLIT), Map.entry("llama-v3", LLAMA3_SPLIT), Map.entry("llama-bpe", LLAMA3_SPLIT),
            Map.entry("smaug-bpe", LLAMA3_SPLIT), Map.entry("dbrx", LLAMA3_SPLIT), Map.entry("falcon3", LLAMA3_SPLIT));

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Whether the file carries a tokenizer ({@code tokenizer.ggml.model} and tokens). */
    public static boolean present(GgufFile f) {
        return f.metadata().containsKey("tokenizer.ggml.model") && f.metadata().containsKey("tokenizer.ggml.tokens");
    }

    public static Tokenizer tokenizer(GgufFile f) {
        return Tokenizer.fromJson(tokenizerJson(GgufMetadata.of(f)));
    }

    /** The tokenizer.json (as text) that the metadata describes. */
    public static String tokenizerJson(GgufMetadata m) {
        String type = m.string("tokenizer.ggml.model");
        List<String> tokens = m.strings("tokenizer.ggml.tokens");
        int[] types = m.has("tokenizer.ggml.token_type") ? m.ints("tokenizer.ggml.token_type") : new int[tokens.size()];
        if (types.length != tokens.size()) {
            throw new CortadoException(m.file() + ": tokenizer.ggml.token_type has " + types.length + " entries for " + tokens.size() + " tokens");
        }
        boolean byteLevel = switch (type) {
            case "gpt2" -> true;
            case "llama" -> false;
            default -> throw new CortadoException(m.file() + ": tokenizer.ggml.model '" + GgufFile.shown(type)
                    + "' is not supported (llama = SentencePiece BPE, gpt2 = byte-level BPE)");
        };
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        List<String> spelled = byteLevel ? byteSpelled(tokens) : tokens;
        ObjectNode vocab = JSON.createObjectNode();
        for (int i = 0; i < spelled.size(); i++) vocab.put(spelled.get(i), i);
        ArrayNode merges = JSON.createArrayNode();
        if (m.has("tokenizer.ggml.merges")) {
            for (String s : m.strings("tokenizer.ggml.merges")) {
                int sp = s.indexOf(' ');
                if (sp <= 0) throw new CortadoException(m.file() + ": tokenizer.ggml.merges entry '" + GgufFile.shown(s) + "' is not 'left right'");
                merges.addArray().add(s.substring(0, sp)).add(s.substring(sp + 1));
            }
        } else if (!byteLevel) {
            float[] scores = m.floats("tokenizer.ggml.scores");
            if (scores.length != tokens.size()) throw new CortadoException(m.file() + ": tokenizer.ggml.scores has " + scores.length + " entries for " + tokens.size() + " tokens");
            for (String[] p : mergesFromScores(tokens, scores)) merges.addArray().add(p[0]).add(p[1]);
        } else {
            throw new CortadoException(m.file() + ": a gpt2 (byte-level BPE) tokenizer needs tokenizer.ggml.merges");
        }
        int unk = m.integer("tokenizer.ggml.unknown_token_id", 0, tokens.size() - 1, byteLevel ? -1 : 0);
        if (byteLevel) model.putNull("unk_token");
        else model.put("unk_token", tokens.get(unk));
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", !byteLevel);
        model.put("byte_fallback", !byteLevel);
        model.put("ignore_merges", false);
        model.set("vocab", vocab);
        model.set("merges", merges);
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < tokens.size(); i++) {
            if (types[i] < 2 || types[i] > 4) continue; // unknown (2) and control (3) are special, user-defined (4) not; as llama.cpp

            ObjectNode a = added.addObject();
            a.put("id", i).put("content", spelled.get(i)).put("single_word", false).put("lstrip", false).put("rstrip", false)
                    .put("normalized", false).put("special", types[i] != 4);
        }
        if (byteLevel) {
            root.putNull("normalizer");
            String pre = m.string("tokenizer.ggml.pre", "default");
            String split = SPLITS.get(pre);
            ObjectNode bl = JSON.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", false);
            if (split == null) {
                root.set("pre_tokenizer", bl.put("use_regex", true));
            } else {
                ObjectNode seq = root.putObject("pre_tokenizer").put("type", "Sequence");
                ObjectNode s = seq.putArray("pretokenizers").addObject().put("type", "Split");
                s.putObject("pattern").put("Regex", split);
                s.put("behavior", "Isolated").put("invert", false);
                ((ArrayNode) seq.get("pretokenizers")).add(bl.deepCopy().put("use_regex", false));
            }
            root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true).put("trim_offsets", true).put("use_regex", true);
        } else {
            boolean prefix = m.bool("tokenizer.ggml.add_space_prefix", true);
            // SentencePiece's dummy prefix as llama.cpp applies it (a space before the text, always; then spaces → ▁):
            // " world" is "▁▁world", as in the source tokenizer.json, where Metaspace's prepend_scheme would give "▁world"
            ObjectNode norm = root.putObject("normalizer").put("type", "Sequence");
            ArrayNode ns = norm.putArray("normalizers");
            if (prefix) ns.addObject().put("type", "Prepend").put("prepend", "▁");
            ns.addObject().put("type", "Replace").put("content", "▁").putObject("pattern").put("String", " ");
            root.putNull("pre_tokenizer");
            ObjectNode dec = root.putObject("decoder").put("type", "Sequence");
            ArrayNode ds = dec.putArray("decoders");
            ds.addObject().put("type", "Replace").put("content", " ").putObject("pattern").put("String", "▁");
            ds.addObject().put("type", "ByteFallback");
            ds.addObject().put("type", "Fuse");
            if (prefix) ds.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        }
        int bos = m.integer("tokenizer.ggml.bos_token_id", 0, tokens.size() - 1, -1);
        boolean addBos = m.bool("tokenizer.ggml.add_bos_token", !byteLevel) && bos >= 0;
        boolean addEos = m.bool("tokenizer.ggml.add_eos_token", false);
        int eos = m.integer("tokenizer.ggml.eos_token_id", 0, tokens.size() - 1, -1);
        if (addBos || addEos && eos >= 0) {
            ObjectNode post = root.putObject("post_processor").put("type", "TemplateProcessing");
            ArrayNode single = post.putArray("single"), pair = post.putArray("pair");
            ObjectNode specials = post.putObject("special_tokens");
            if (addBos) special(single, pair, specials, spelled.get(bos), bos, true);
            single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            if (addBos) pair.addObject().putObject("SpecialToken").put("id", spelled.get(bos)).put("type_id", 1);
            pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
            if (addEos && eos >= 0) {
                single.addObject().putObject("SpecialToken").put("id", spelled.get(eos)).put("type_id", 0);
                pair.addObject().putObject("SpecialToken").put("id", spelled.get(eos)).put("type_id", 1);
                specials.putObject(spelled.get(eos)).put("id", spelled.get(eos)).set("ids", JSON.createArrayNode().add(eos));
                ((ObjectNode) specials.get(spelled.get(eos))).putArray("tokens").add(spelled.get(eos));
            }
        } else {
            root.putNull("post_processor");
        }
        return root.toString();
    }

    private static void special(ArrayNode single, ArrayNode pair, ObjectNode specials, String tok, int id, boolean first) {
        single.addObject().putObject("SpecialToken").put("id", tok).put("type_id", 0);
        pair.addObject().putObject("SpecialToken").put("id", tok).put("type_id", 0);
        ObjectNode s = specials.putObject(tok).put("id", tok);
        s.putArray("ids").add(id);
        s.putArray("tokens").add(tok);
    }

    /** tokenizer_config.json's content from the metadata: special tokens, add_bos/eos, chat template, context. */
    public static TokenizerConfig config(GgufFile f) {
        GgufMetadata m = GgufMetadata.of(f);
        ObjectNode c = JSON.createObjectNode();
        List<String> tokens = present(f) ? m.strings("tokenizer.ggml.tokens") : List.of();
        String[][] keys = {{"bos_token", "bos_token_id"}, {"eos_token", "eos_token_id"}, {"unk_token", "unknown_token_id"}, {"pad_token", "padding_token_id"}};
        for (String[] k : keys) {
            String key = "tokenizer.ggml." + k[1];
            if (m.has(key) && !tokens.isEmpty()) c.put(k[0], tokens.get(m.integer(key, 0, tokens.size() - 1)));
        }
        boolean llama = "llama".equals(m.string("tokenizer.ggml.model", ""));
        c.put("add_bos_token", m.bool("tokenizer.ggml.add_bos_token", llama));
        c.put("add_eos_token", m.bool("tokenizer.ggml.add_eos_token", false));
        if (m.has("tokenizer.chat_template")) c.put("chat_template", m.string("tokenizer.chat_template"));
        return TokenizerConfig.fromJson(c.toString());
    }

    /**
     * BPE merges implied by a SentencePiece vocabulary with scores: every split of a token into two vocabulary tokens,
     * best score first (then longer left, longer right, then file order) — transformers' {@code generate_merges}.
     */
    static List<String[]> mergesFromScores(List<String> tokens, float[] scores) {
        Map<String, Integer> vocab = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) vocab.put(tokens.get(i), i);
        record M(String l, String r, float score, int ll, int rl, long order) {}
        List<M> all = new ArrayList<>();
        long order = 0;
        Map<String, Float> byToken = new java.util.LinkedHashMap<>();
        for (int i = 0; i < tokens.size(); i++) byToken.put(tokens.get(i), scores[i]); // a dict: the last score of a repeated token wins
        for (Map.Entry<String, Float> e : byToken.entrySet()) {
            String t = e.getKey();
            List<M> local = new ArrayList<>();
            for (int i = t.offsetByCodePoints(0, Math.min(1, t.codePointCount(0, t.length()))); i > 0 && i < t.length(); i = t.offsetByCodePoints(i, 1)) {
                String l = t.substring(0, i), r = t.substring(i);
                if (vocab.containsKey(l) && vocab.containsKey(r)) {
                    local.add(new M(l, r, e.getValue(), l.codePointCount(0, l.length()), r.codePointCount(0, r.length()), 0));
                }
            }
            local.sort(Comparator.comparingInt((M x) -> vocab.get(x.l)).thenComparingInt(x -> vocab.get(x.r)));
            for (M x : local) all.add(new M(x.l, x.r, x.score, x.ll, x.rl, order++));
        }
        all.sort(Comparator.comparingDouble((M x) -> -x.score).thenComparingInt(x -> -x.ll).thenComparingInt(x -> -x.rl).thenComparingLong(M::order));
        List<String[]> out = new ArrayList<>(all.size());
        for (M x : all) out.add(new String[] {x.l, x.r});
        return out;
    }

    /** transformers' byte_level_tokenizer: a token outside the GPT-2 byte alphabet is respelled from its UTF-8 bytes. */
    static List<String> byteSpelled(List<String> tokens) {
        char[] map = new char[256];
        boolean[] inAlphabet = new boolean[0x200];
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char) b : (char) (256 + n++);
            inAlphabet[map[b]] = true;
        }
        List<String> out = new ArrayList<>(tokens.size());
        for (String t : tokens) {
            boolean ok = true;
            for (int i = 0; i < t.length() && ok; i++) ok = t.charAt(i) < 0x200 && inAlphabet[t.charAt(i)];
            if (ok) {
                out.add(t);
                continue;
            }
            StringBuilder sb = new StringBuilder();
            for (byte b : t.getBytes(java.nio.charset.StandardCharsets.UTF_8)) sb.append(map[b & 0xff]);
            out.add(sb.toString());
        }
        return out;
    }
}
