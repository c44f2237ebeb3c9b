package dev.cortado.api;

import dev.cortado.model.whisper.Transcript;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A transcript in one of OpenAI's response formats: {@code json} {"text"}, {@code text} (plain), {@code verbose_json}
 * {"task","language","duration","text","segments":[{"id","seek","start","end","text","tokens","temperature","avg_logprob",
 * "compression_ratio"}]} (language as Whisper's code, e.g. "en"; avg_logprob and compression_ratio of the segment's
 * 30 s window as transformers' temperature fallback computes them, the ratio over token bytes where OpenAI's is over
 * the text; no_speech_prob is not computed and left out), {@code srt} and {@code vtt} subtitles. Text is stripped of the leading space Whisper's
 * tokens carry.
 */
public record TranscriptionResponse(String contentType, byte[] body) {

    public static TranscriptionResponse of(TranscriptionRequest r, Transcript t, double durationSeconds) {
        String text = t.text().strip();
        return switch (r.responseFormat()) {
            case "text" -> plain("text/plain; charset=utf-8", text + "\n");
            case "srt" -> plain("text/plain; charset=utf-8", subtitles(t, false));
            case "vtt" -> plain("text/vtt; charset=utf-8", subtitles(t, true));
            case "verbose_json" -> json(verbose(r, t, text, durationSeconds));
            default -> json(Map.of("text", text));
        };
    }

    private static Map<String, Object> verbose(TranscriptionRequest r, Transcript t, String text, double duration) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("task", r.translate() ? "translate" : "transcribe");
        o.put("language", t.language());
        o.put("duration", round(duration));
        o.put("text", text);
        List<Object> segs = new ArrayList<>();
        int id = 0;
        for (Transcript.Segment s : t.segments()) {
            Map<String, Object> g = new LinkedHashMap<>();
            g.put("id", id++);
            g.put("seek", (int) Math.round(s.start() * 100));   // frames (10 ms) from the start of the audio to the segment
            g.put("start", round(s.start()));
            g.put("end", round(s.end()));
            g.put("text", s.text());
            g.put("tokens", s.tokens());
            g.put("temperature", s.temperature());
            if (!Double.isNaN(s.avgLogprob())) g.put("avg_logprob", s.avgLogprob());
            if (!Double.isNaN(s.compressionRatio())) g.put("compression_ratio", s.compressionRatio());
            if (!Double.isNaN(s.noSpeechProb())) g.put("no_speech_prob", s.noSpeechProb());
            segs.add(g);
        }
        o.put("segments", segs);
        return o;
    }

    private static String subtitles(Transcript t, boolean vtt) {
        StringBuilder b = new StringBuilder(vtt ? "WEBVTT\n\n" : "");
        int n = 1;
        for (Transcript.Segment s : t.segments()) {
            if (!vtt) b.append(n).append('\n');
            n++;
            b.append(time(s.start(), vtt)).append(" --> ").append(time(s.end(), vtt)).append('\n')
                    .append(s.text().strip()).append("\n\n");
        }
        return b.toString();
    }

    private static String time(double seconds, boolean vtt) {
        long ms = Math.round(seconds * 1000);
        return String.format(Locale.ROOT, "%02d:%02d:%02d%s%03d", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, vtt ? "." : ",", ms % 1000);
    }

    private static double round(double s) {
        return Math.round(s * 100) / 100.0;
    }

    private static TranscriptionResponse plain(String type, String s) {
        return new TranscriptionResponse(type, s.getBytes(StandardCharsets.UTF_8));
    }

    private static TranscriptionResponse json(Object o) {
        return new TranscriptionResponse("application/json", ApiJson.write(o).getBytes(StandardCharsets.UTF_8));
    }
}
