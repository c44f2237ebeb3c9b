package dev.cortado.api;

import dev.cortado.model.whisper.Transcriber;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * OpenAI's {@code POST /v1/audio/transcriptions} and {@code /v1/audio/translations} form fields, checked: the audio
 * file's bytes and name; {@code model}; {@code language} (ISO-639-1, transcriptions only; detected when absent);
 * {@code prompt} (accepted and ignored: Cortado does not condition on previous text yet); {@code response_format}
 * json (default), text, verbose_json (segments), srt or vtt; {@code temperature} 0–1 (0 = greedy; above 0 samples);
 * {@code timestamp_granularities[]} segment (word is refused: it needs cross-attention alignment).
 * Unknown fields are ignored, as OpenAI does.
 */
public record TranscriptionRequest(byte[] file, String fileName, String model, String language, String prompt,
                                   String responseFormat, double temperature, boolean translate) {
    public static final String URL = "/v1/audio/transcriptions";
    public static final String TRANSLATIONS_URL = "/v1/audio/translations";
    static final Set<String> FORMATS = Set.of("json", "text", "verbose_json", "srt", "vtt");

    /**
     * From the parsed form: {@code fields} the text fields (a field given twice keeps all its values), {@code file}
     * the uploaded file's bytes (null when the form has no file part) under {@code fileName}.
     */
    public static TranscriptionRequest of(String url, Map<String, List<String>> fields, byte[] file, String fileName) {
        boolean translate = url.equals(TRANSLATIONS_URL);
        if (file == null)
            throw ApiException.param("'file' is missing; send the audio as a multipart/form-data file part named 'file'");
        if (file.length == 0) throw ApiException.param("'file' is empty (0 bytes); send a WAV file");
        String format = one(fields, "response_format", "json");
        if (!FORMATS.contains(format))
            throw ApiException.param("'response_format' must be one of json, text, verbose_json, srt, vtt, got '" + format + "'");
        String t = one(fields, "temperature", "0");
        double temperature;
        try {
            temperature = Double.parseDouble(t);
        } catch (NumberFormatException e) {
            throw ApiException.param("'temperature' must be a number from 0 to 1, got '" + t + "'");
        }
        if (!(temperature >= 0 && temperature <= 1))
            throw ApiException.param("'temperature' must be from 0 to 1, got " + t);
        String language = one(fields, "language", null);
        if (language != null && translate)
            throw ApiException.param("'language' is not a field of " + TRANSLATIONS_URL + " (the spoken language is detected); "
                    + "leave it out");
        if (language != null && !language.matches("[A-Za-z]{2,3}"))
            throw ApiException.param("'language' must be an ISO-639-1 code such as en or de, got '" + language + "'");
        List<String> gran = fields.getOrDefault("timestamp_granularities[]", fields.getOrDefault("timestamp_granularities", List.of()));
        for (String g : gran) {
            if (g.equals("word"))
                throw ApiException.param("'timestamp_granularities[]' word is not supported (Cortado gives segment "
                        + "timestamps); use segment");
            if (!g.equals("segment"))
                throw ApiException.param("'timestamp_granularities[]' must be segment, got '" + g + "'");
        }
        if (!gran.isEmpty() && !format.equals("verbose_json"))
            throw ApiException.param("'timestamp_granularities[]' needs response_format verbose_json");
        return new TranscriptionRequest(file, fileName == null || fileName.isBlank() ? "file" : fileName, one(fields, "model", null),
                language == null ? null : language.toLowerCase(Locale.ROOT), one(fields, "prompt", null), format, temperature, translate);
    }

    /** Segment timestamps are decoded for the formats that show them. */
    public boolean timestamps() {
        return responseFormat.equals("verbose_json") || responseFormat.equals("srt") || responseFormat.equals("vtt");
    }

    /** The transcriber's options for this request (up to max_length tokens per 30 s window, greedy unless temperature > 0). */
    public Transcriber.Options options() {
        return new Transcriber.Options(language, translate ? "translate" : "transcribe", timestamps(), 1, null, temperature);
    }

    private static String one(Map<String, List<String>> fields, String name, String dflt) {
        List<String> v = fields.get(name);
        if (v == null || v.isEmpty()) return dflt;
        if (v.size() > 1) throw ApiException.param("'" + name + "' is given " + v.size() + " times; send it once");
        String s = v.getFirst().strip();
        return s.isEmpty() ? dflt : s;
    }
}
