package dev.cortado.generate;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.CortadoException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reads {@code generation_config.json} (Hugging Face key names) and key/value overrides into a config. */
final class GenerationConfigJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    static final Set<String> KEYS = Set.of("max_new_tokens", "max_length", "min_new_tokens", "do_sample",
            "temperature", "top_k", "top_p", "min_p", "typical_p", "repetition_penalty", "presence_penalty",
            "frequency_penalty", "no_repeat_ngram_size", "bad_words_ids", "logit_bias", "forced_bos_token_id",
            "forced_eos_token_id", "eos_token_id", "pad_token_id", "bos_token_id", "decoder_start_token_id",
            "num_beams", "length_penalty", "early_stopping", "num_return_sequences", "seed", "stop_strings",
            "logprobs", "truncate_prompt", "is_encoder_decoder", "renormalize_logits");

    private GenerationConfigJson() {}

    static GenerationConfig fromFile(Path file) {
        JsonNode root;
        try {
            root = MAPPER.readTree(Files.readString(file));
        } catch (JacksonException e) {
            throw new CortadoException(dev.cortado.JsonErrors.syntax(file, e), e);
        } catch (IOException e) {
            throw new CortadoException("cannot read generation config " + file + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) throw new CortadoException(file + ": the top level is not a JSON object");
        try {
            // values are checked here, where the error can name the file (Generator checks overrides again)
            return apply(GenerationConfig.defaults(), root, false).validate();
        } catch (CortadoException e) {
            throw new CortadoException(file + ": " + e.getMessage(), e);
        }
    }

    static GenerationConfig withOverrides(GenerationConfig base, Map<String, ?> overrides) {
        JsonNode node;
        try {
            node = MAPPER.valueToTree(overrides);
        } catch (IllegalArgumentException e) {
            throw new CortadoException("generation overrides: " + e.getMessage(), e);
        }
        return apply(base, node, true);
    }

    private static GenerationConfig apply(GenerationConfig base, JsonNode root, boolean strict) {
        GenerationConfig.Builder b = base.toBuilder();
        var it = root.fields();
        while (it.hasNext()) {
            var e = it.next();
            String k = e.getKey();
            JsonNode v = e.getValue();
            if (!KEYS.contains(k)) {
                if (strict) throw new CortadoException("unknown generation option '" + k + "'");
                continue;
            }
            boolean unset = v == null || v.isNull();
            switch (k) {
                case "max_new_tokens" -> b.maxNewTokens(unset ? null : integer(k, v));
                case "max_length" -> b.maxLength(unset ? 20 : integer(k, v));
                case "min_new_tokens" -> b.minNewTokens(unset ? 0 : integer(k, v));
                case "do_sample" -> b.doSample(!unset && bool(k, v));
                case "temperature" -> b.temperature(unset ? 1f : number(k, v));
                case "top_k" -> b.topK(unset ? 50 : integer(k, v));
                case "top_p" -> b.topP(unset ? 1f : number(k, v));
                case "min_p" -> b.minP(unset ? 0f : number(k, v));
                case "typical_p" -> b.typicalP(unset ? 1f : number(k, v));
                case "repetition_penalty" -> b.repetitionPenalty(unset ? 1f : number(k, v));
                case "presence_penalty" -> b.presencePenalty(unset ? 0f : number(k, v));
                case "frequency_penalty" -> b.frequencyPenalty(unset ? 0f : number(k, v));
                case "no_repeat_ngram_size" -> b.noRepeatNgramSize(unset ? 0 : integer(k, v));
                case "bad_words_ids" -> b.badWordsIds(unset ? List.of() : badWords(k, v));
                case "logit_bias" -> b.logitBias(unset ? Map.of() : logitBias(k, v));
                case "forced_bos_token_id" -> b.forcedBosTokenId(unset ? null : integer(k, v));
                case "forced_eos_token_id" -> b.forcedEosTokenId(unset ? null : singleId(k, v));
                case "eos_token_id" -> b.eosTokenIds(unset ? List.of() : ids(k, v));
                case "pad_token_id" -> b.padTokenId(unset ? null : integer(k, v));
                case "bos_token_id" -> b.bosTokenId(unset ? null : integer(k, v));
                case "decoder_start_token_id" -> b.decoderStartTokenId(unset ? null : singleId(k, v));
                case "num_beams" -> b.numBeams(unset ? 1 : integer(k, v));
                case "length_penalty" -> b.lengthPenalty(unset ? 1f : number(k, v));
                case "early_stopping" -> b.earlyStopping(unset ? EarlyStopping.FALSE : earlyStopping(k, v));
                case "num_return_sequences" -> b.numReturnSequences(unset ? 1 : integer(k, v));
                case "seed" -> b.seed(unset ? 0L : longValue(k, v));
                case "stop_strings" -> b.stopStrings(unset ? List.of() : strings(k, v));
                case "logprobs" -> b.logprobs(unset ? null : v.isBoolean() ? (v.booleanValue() ? 0 : null) : integer(k, v));
                case "truncate_prompt" -> b.promptOverflow(unset || !truncate(k, v) ? PromptOverflow.ERROR
                        : PromptOverflow.TRUNCATE_LEFT);
                case "is_encoder_decoder" -> b.encoderDecoder(!unset && bool(k, v));
                case "renormalize_logits" -> b.renormalizeLogits(!unset && bool(k, v));
                default -> throw new IllegalStateException(k);
            }
        }
        return b.build();
    }

    private static CortadoException type(String k, JsonNode v, String want) {
        String shown = v.toString().replaceAll("\\s+", " ");
        if (shown.length() > 60) shown = shown.substring(0, 60) + "…";
        return new CortadoException("generation config: " + k + " = " + shown + " is not " + want);
    }

    private static int integer(String k, JsonNode v) {
        if (v.isIntegralNumber() && v.canConvertToInt()) return v.intValue();
        if (v.isNumber() && v.doubleValue() == Math.rint(v.doubleValue()) && Math.abs(v.doubleValue()) < 1e9)
            return (int) v.doubleValue();
        throw type(k, v, "an integer");
    }

    private static long longValue(String k, JsonNode v) {
        if (v.isIntegralNumber() && v.canConvertToLong()) return v.longValue();
        throw type(k, v, "an integer");
    }

    private static float number(String k, JsonNode v) {
        if (!v.isNumber()) throw type(k, v, "a number");
        return (float) v.doubleValue();
    }

    private static boolean bool(String k, JsonNode v) {
        if (!v.isBoolean()) throw type(k, v, "true or false");
        return v.booleanValue();
    }

    private static boolean truncate(String k, JsonNode v) {
        if (v.isBoolean()) return v.booleanValue();
        if (v.isTextual() && v.textValue().equals("left")) return true;
        if (v.isTextual() && v.textValue().equals("error")) return false;
        throw type(k, v, "true/false, \"left\" or \"error\"");
    }

    private static EarlyStopping earlyStopping(String k, JsonNode v) {
        if (v.isBoolean()) return v.booleanValue() ? EarlyStopping.TRUE : EarlyStopping.FALSE;
        if (v.isTextual() && v.textValue().equals("never")) return EarlyStopping.NEVER;
        throw type(k, v, "true, false or \"never\"");
    }

    private static int singleId(String k, JsonNode v) {
        if (v.isArray()) {
            if (v.size() != 1) throw type(k, v, "a single token id");
            return integer(k, v.get(0));
        }
        return integer(k, v);
    }

    private static List<Integer> ids(String k, JsonNode v) {
        List<Integer> out = new ArrayList<>();
        if (v.isArray()) for (JsonNode x : v) out.add(integer(k, x));
        else out.add(integer(k, v));
        return out;
    }

    private static List<List<Integer>> badWords(String k, JsonNode v) {
        if (!v.isArray()) throw type(k, v, "a list of token id lists");
        List<List<Integer>> out = new ArrayList<>();
        for (JsonNode w : v) {
            if (!w.isArray()) throw type(k, v, "a list of token id lists");
            out.add(ids(k, w));
        }
        return out;
    }

    private static Map<Integer, Float> logitBias(String k, JsonNode v) {
        if (!v.isObject()) throw type(k, v, "an object {\"token id\": bias}");
        Map<Integer, Float> out = new HashMap<>();
        var it = v.fields();
        while (it.hasNext()) {
            var e = it.next();
            int id;
            try {
                id = Integer.parseInt(e.getKey().trim());
            } catch (NumberFormatException ex) {
                throw type(k, v, "an object keyed by token ids");
            }
            out.put(id, number(k, e.getValue()));
        }
        return out;
    }

    private static List<String> strings(String k, JsonNode v) {
        if (v.isTextual()) return List.of(v.textValue());
        if (!v.isArray()) throw type(k, v, "a string or a list of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode s : v) {
            if (!s.isTextual()) throw type(k, v, "a string or a list of strings");
            out.add(s.textValue());
        }
        return out;
    }
}
