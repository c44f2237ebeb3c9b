package dev.cortado.generate;

import dev.cortado.tokenizer.StreamingDecoder;
import dev.cortado.tokenizer.Tokenizer;

import java.util.List;

/**
 * The text of one generated sequence as it grows: the tokenizer's streaming decoder (never half a UTF-8
 * character), stop strings matched across token boundaries, and hold-back of a tail that could be the start of a
 * stop string. A found stop string and everything after it are cut from the text.
 */
final class TextStream {
    private final StreamingDecoder decoder;
    private final List<String> stops;
    private final StringBuilder text = new StringBuilder();
    private int emitted;
    private boolean stopped;

    TextStream(Tokenizer tokenizer, List<String> stops) {
        this.decoder = tokenizer.streamingDecoder(true);
        this.stops = stops;
    }

    /** Adds a token; returns the text that may be shown now. */
    String push(int id) {
        if (stopped) return "";
        int before = text.length();
        text.append(decoder.push(id));
        int cut = -1;
        for (String s : stops) {
            int idx = text.indexOf(s, Math.max(0, before - s.length() + 1));
            if (idx >= 0 && (cut < 0 || idx < cut)) cut = idx;
        }
        if (cut >= 0) {
            stopped = true;
            text.setLength(Math.max(cut, emitted));
            return flush();
        }
        int hold = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, text.length() - emitted); k > hold; k--) {
                if (endsWith(s, k)) {
                    hold = k;
                    break;
                }
            }
        }
        int end = text.length() - hold;
        String out = text.substring(emitted, end);
        emitted = end;
        return out;
    }

    private boolean endsWith(String stop, int k) {
        int off = text.length() - k;
        for (int i = 0; i < k; i++) if (text.charAt(off + i) != stop.charAt(i)) return false;
        return true;
    }

    /** Whether a stop string was found. */
    boolean stopped() {
        return stopped;
    }

    /** Everything not yet shown (at the end of the sequence). */
    String flush() {
        String out = text.substring(emitted);
        emitted = text.length();
        return out;
    }

    String text() {
        return text.toString();
    }
}
