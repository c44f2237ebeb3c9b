package dev.cortado.model.whisper;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cortado.CortadoException;
import dev.cortado.generate.GenerationConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Whisper part of generation_config.json: languages and tasks (lang_to_id, task_to_id), no_timestamps_token_id,
 * suppress_tokens, begin_suppress_tokens, max_initial_timestamp_index, is_multilingual; plus the ordinary
 * generation knobs (decoder_start_token_id, eos, max_length, num_beams) as a {@link GenerationConfig}.
 */
public record WhisperSettings(GenerationConfig generation, Map<String, Integer> languages, Map<String, Integer> tasks,
                              int noTimestampsId, int[] suppressTokens, int[] beginSuppressTokens,
                              Integer maxInitialTimestampIndex, boolean multilingual, int eosId, int startId) {

    public static WhisperSettings load(Path dir) {
        Path f = dir.resolve("generation_config.json");
        if (!Files.isRegularFile(f))
            throw new CortadoException(dir + " has no generation_config.json; a Whisper folder needs it (lang_to_id, no_timestamps_token_id, ...)");
        JsonNode j;
        try {
            j = new ObjectMapper().readTree(f.toFile());
        } catch (IOException e) {
            throw new CortadoException("cannot read " + f + ": " + e.getMessage(), e);
        }
        GenerationConfig g = GenerationConfig.fromFile(f);
        if (!j.hasNonNull("no_timestamps_token_id"))
            throw new CortadoException(f + ": missing 'no_timestamps_token_id'; is this a Whisper generation_config.json?");
        if (g.decoderStartTokenId() == null) throw new CortadoException(f + ": missing 'decoder_start_token_id'");
        if (g.eosTokenIds().isEmpty()) throw new CortadoException(f + ": missing 'eos_token_id'");
        boolean multi = j.path("is_multilingual").asBoolean(j.has("lang_to_id"));
        return new WhisperSettings(g, ids(j.path("lang_to_id")), ids(j.path("task_to_id")), j.get("no_timestamps_token_id").asInt(),
                ints(j.path("suppress_tokens")), ints(j.path("begin_suppress_tokens")),
                j.hasNonNull("max_initial_timestamp_index") ? j.get("max_initial_timestamp_index").asInt() : null, multi,
                g.eosTokenIds().getFirst(), g.decoderStartTokenId());
    }

    /** The first timestamp token (&lt;|0.00|&gt;). */
    public int timestampBegin() {
        return noTimestampsId + 1;
    }

    /** Language token id for a code ("en") or a token ("&lt;|en|&gt;"); a clear error for unknown ones. */
    public int languageId(String lang) {
        String key = lang.startsWith("<|") ? lang : "<|" + lang.toLowerCase() + "|>";
        Integer id = languages.get(key);
        if (id == null) {
            String known = String.join(", ", languages.keySet().stream().limit(12).map(WhisperSettings::code).toList());
            throw new CortadoException("unknown language '" + lang + "'; use a code the model knows (" + known + ", ...)");
        }
        return id;
    }

    public int taskId(String task) {
        Integer id = tasks.get(task);
        if (id == null) throw new CortadoException("unknown task '" + task + "'; use one of " + tasks.keySet());
        return id;
    }

    /** "en" for the token &lt;|en|&gt;. */
    public String languageCode(int id) {
        for (var e : languages.entrySet()) if (e.getValue() == id) return code(e.getKey());
        return null;
    }

    static String code(String token) {
        return token.startsWith("<|") && token.endsWith("|>") ? token.substring(2, token.length() - 2) : token;
    }

    private static Map<String, Integer> ids(JsonNode n) {
        Map<String, Integer> m = new LinkedHashMap<>();
        n.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asInt()));
        return m;
    }

    private static int[] ints(JsonNode n) {
        int[] r = new int[n.size()];
        for (int i = 0; i < r.length; i++) r[i] = n.get(i).asInt();
        return r;
    }
}
