package dev.cortado.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.CortadoException;
import dev.cortado.tokenizer.AddedVocabulary.AddedToken;
import dev.cortado.tokenizer.AddedVocabulary.Segment;
import dev.cortado.tokenizer.decoders.Decoder;
import dev.cortado.tokenizer.decoders.Decoders;
import dev.cortado.tokenizer.models.Model;
import dev.cortado.tokenizer.models.Models;
import dev.cortado.tokenizer.normalizers.Normalizer;
import dev.cortado.tokenizer.normalizers.Normalizers;
import dev.cortado.tokenizer.pretokenizers.PreTokenizer;
import dev.cortado.tokenizer.pretokenizers.PreTokenizers;
import dev.cortado.tokenizer.processors.PostProcessor;
import dev.cortado.tokenizer.processors.PostProcessors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.cortado.tokenizer.models.Vocab;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face {@code tokenizer.json} tokenizer (the Rust {@code tokenizers} pipeline): added tokens, normalizer,
 * pre-tokenizer, model (BPE, Unigram, WordPiece, WordLevel), post-processor, decoder, truncation and padding.
 *
 * <p>Java strings may hold unpaired surrogates, which UTF-8 (and so HF) cannot represent: {@link #encode} replaces
 * each one by U+FFFD before anything else. Instances are immutable and thread-safe.
 */
public final class Tokenizer {
    private final AddedVocabulary added;
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final Model model;
    private final PostProcessor postProcessor;
    private final Decoder decoder;
    private final Truncation truncation;
    private final Padding padding;

    private Tokenizer(AddedVocabulary added, Normalizer normalizer, PreTokenizer preTokenizer, Model model,
                      PostProcessor postProcessor, Decoder decoder, Truncation truncation, Padding padding) {
        this.added = added;
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.postProcessor = postProcessor;
        this.decoder = decoder;
        this.truncation = truncation;
        this.padding = padding;
    }

    public static Tokenizer fromFile(Path tokenizerJson) {
        String json;
        try {
            json = Files.readString(tokenizerJson);
        } catch (IOException e) {
            throw new CortadoException("cannot read tokenizer " + tokenizerJson + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new CortadoException("cannot read tokenizer " + tokenizerJson + ": not UTF-8 text", e);
        }
        try {
            return fromJson(json);
        } catch (CortadoException e) {
            throw new CortadoException(tokenizerJson + ": " + e.getMessage(), e);
        }
    }

    /** Loads a tokenizer.json from the class path, e.g. {@code "/all-minilm-l6-v2-tokenizer.json"} (MiniLM jar). */
    public static Tokenizer fromClasspath(String resource) {
        try (var in = Tokenizer.class.getResourceAsStream(resource)) {
            if (in == null) throw new CortadoException("tokenizer resource not on the class path: " + resource);
            return fromJson(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new CortadoException("cannot read tokenizer resource " + resource + ": " + e.getMessage(), e);
        } catch (CortadoException e) {
            throw e.getMessage().startsWith("tokenizer resource") ? e : new CortadoException(resource + ": " + e.getMessage(), e);
        }
    }

    public static Tokenizer fromJson(String json) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (JacksonException e) {
            throw new CortadoException("tokenizer.json is not valid JSON: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() : ""), e);
        }
        if (root == null || !root.isObject()) throw new CortadoException("tokenizer.json: the top level is not a JSON object");
        return fromJson(new Json(root, "$"));
    }

    static Tokenizer fromJson(Json j) {
        Normalizer normalizer = j.has("normalizer") ? Normalizers.fromJson(j.obj("normalizer")) : null;
        PreTokenizer pre = j.has("pre_tokenizer") ? PreTokenizers.fromJson(j.obj("pre_tokenizer")) : null;
        Model model = Models.fromJson(j.obj("model"));
        List<AddedToken> tokens = addedTokens(j, model);
        // ids past the model's vocab continue it with the added tokens; a few holes are tolerated (tiktoken files)
        int idLimit = (int) Math.min(Integer.MAX_VALUE, (long) model.vocabSize() + tokens.size() + Vocab.HOLE_SLACK);
        PostProcessor post = j.has("post_processor") ? PostProcessors.fromJson(j.obj("post_processor"), idLimit)
                : PostProcessor.NONE;
        Decoder decoder = j.has("decoder") ? Decoders.fromJson(j.obj("decoder")) : null;
        Truncation trunc = j.has("truncation") ? Truncation.fromJson(j.obj("truncation")) : null;
        Padding pad = j.has("padding") ? Padding.fromJson(j.obj("padding")) : null;
        if (pad != null && pad.padId() >= idLimit)
            throw j.get("padding").get("pad_id").error(pad.padId() + " is not allowed: expected an id below " + idLimit
                    + " (" + model.vocabSize() + " model tokens + " + tokens.size() + " added tokens)");
        return new Tokenizer(new AddedVocabulary(tokens, normalizer), normalizer, pre, model, post, decoder, trunc,
                pad);
    }

    /**
     * {@code added_tokens}: each {@code id} in 0..(model tokens + added tokens + {@link Vocab#HOLE_SLACK}), one
     * content per id and one id per content.
     */
    private static List<AddedToken> addedTokens(Json j, Model model) {
        List<AddedToken> tokens = new ArrayList<>();
        if (!j.has("added_tokens")) return tokens;
        List<Json> list = j.arr("added_tokens").elements();
        long limit = (long) model.vocabSize() + list.size() + Vocab.HOLE_SLACK;
        Map<Integer, String> byId = new HashMap<>();
        Map<String, Integer> byContent = new HashMap<>();
        for (Json t : list) {
            Json idNode = t.get("id");
            int id = t.integer("id");
            if (id < 0 || id >= limit)
                throw idNode.error(id + " is not allowed: added token ids continue the vocab (" + model.vocabSize()
                        + " model tokens + " + list.size() + " added tokens): expected 0.." + (limit - 1));
            String content = t.str("content");
            String other = byId.putIfAbsent(id, content);
            if (other != null && !other.equals(content))
                throw idNode.error("id " + id + " is given to two added tokens, " + Json.quote(other) + " and "
                        + Json.quote(content) + ": each id must name one token");
            Integer otherId = byContent.putIfAbsent(content, id);
            if (otherId != null && otherId != id)
                throw t.get("content").error("the added token " + Json.quote(content) + " has two ids, " + otherId
                        + " and " + id);
            tokens.add(new AddedToken(id, content, t.bool("single_word", false), t.bool("lstrip", false),
                    t.bool("rstrip", false), t.bool("normalized", false), t.bool("special", false)));
        }
        return tokens;
    }

    /** Encodes one text; with {@code addSpecialTokens} the post-processor's tokens ([CLS], BOS, ...) are added. */
    public Encoding encode(String text, boolean addSpecialTokens) {
        TokenBuffer buf = encodeRaw(Utf16.sanitize(text));
        if (truncation != null) {
            int max = Math.max(0, truncation.maxLength() - (addSpecialTokens ? postProcessor.addedTokens() : 0));
            if (buf.size() > max) {
                if (truncation.left()) buf.keep(buf.size() - max, buf.size());
                else buf.keep(0, max);
            }
        }
        if (addSpecialTokens) buf = postProcessor.addSpecialTokens(buf);
        Encoding e = buf.toEncoding();
        if (padding != null) e = padding.pad(e, padding.target(e.length()));
        return e;
    }

    private TokenBuffer encodeRaw(String text) {
        TokenBuffer buf = new TokenBuffer();
        List<String> words = new ArrayList<>();
        for (Segment seg : added.split(text, normalizer)) {
            if (seg.id() >= 0) {
                buf.add(seg.id(), seg.text());
                continue;
            }
            words.clear();
            if (preTokenizer == null) words.add(seg.text());
            else preTokenizer.split(seg.text(), words);
            for (String w : words) if (!w.isEmpty()) model.tokenize(w, buf);
        }
        return buf;
    }

    /** Encodes each text, then pads the batch when padding is configured (to the longest, or to a fixed length). */
    public List<Encoding> encodeBatch(List<String> texts, boolean addSpecialTokens) {
        List<Encoding> out = new ArrayList<>(texts.size());
        for (String t : texts) out.add(encode(t, addSpecialTokens));
        if (padding != null) {
            int longest = 0;
            for (Encoding e : out) longest = Math.max(longest, e.length());
            int target = padding.target(longest);
            out.replaceAll(e -> padding.pad(e, target));
        }
        return out;
    }

    /** Decodes ids (unknown ids are skipped); with {@code skipSpecialTokens} special added tokens are dropped. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            if (skipSpecialTokens && added.isSpecial(id)) continue;
            String t = idToToken(id);
            if (t != null) tokens.add(t);
        }
        return decodeTokens(tokens);
    }

    String decodeTokens(List<String> tokens) {
        if (decoder == null) return String.join(" ", tokens);
        return String.join("", decoder.decodeChain(tokens));
    }

    /** -1 if absent. */
    public int tokenToId(String token) {
        AddedToken t = added.byContent(token);
        return t != null ? t.id() : model.tokenToId(token);
    }

    /** null if absent. */
    public String idToToken(int id) {
        AddedToken t = added.byId(id);
        return t != null ? t.content() : model.idToToken(id);
    }

    /** Number of distinct tokens, added tokens included (HF {@code get_vocab_size(true)}). */
    public int vocabSize() {
        Set<Integer> extra = new HashSet<>();
        for (AddedToken t : added.tokens()) if (model.idToToken(t.id()) == null) extra.add(t.id());
        return model.vocabSize() + extra.size();
    }

    /** Whether {@code id} is a special added token. */
    public boolean isSpecial(int id) {
        return added.isSpecial(id);
    }

    public Truncation truncation() {
        return truncation;
    }

    public Padding padding() {
        return padding;
    }

    public Tokenizer withTruncation(int maxLength) {
        return withTruncation(new Truncation(maxLength, false));
    }

    /** {@code null} turns truncation off. */
    public Tokenizer withTruncation(Truncation t) {
        return new Tokenizer(added, normalizer, preTokenizer, model, postProcessor, decoder, t, padding);
    }

    /** {@code null} turns padding off. */
    public Tokenizer withPadding(Padding p) {
        return new Tokenizer(added, normalizer, preTokenizer, model, postProcessor, decoder, truncation, p);
    }

    public StreamingDecoder streamingDecoder(boolean skipSpecialTokens) {
        return new StreamingDecoder(this, skipSpecialTokens);
    }
}
