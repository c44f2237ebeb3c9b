package dev.cortado.tokenizer.models;

import dev.cortado.tokenizer.Json;
import java.util.HashMap;
import java.util.Map;

/** Vocabulary helpers shared by the models. */
public final class Vocab {
    /**
     * How far ids may run past the number of tokens: trainers write ids 0..N-1, converted files (tiktoken's) leave a
     * few holes; an id beyond this is a broken file (and would make the id → token table huge).
     */
    public static final int HOLE_SLACK = 1024;

    private Vocab() {}

    static Map<String, Integer> map(Json vocab) {
        int n = vocab.node().size();
        long limit = (long) n + HOLE_SLACK;
        Map<String, Integer> m = new HashMap<>(n * 2);
        Map<Integer, String> seen = new HashMap<>(n * 2);
        for (var e : vocab.fields()) {
            Json v = e.getValue();
            if (!v.node().isIntegralNumber() || !v.node().canConvertToInt())
                throw v.error("expected an integer, got " + v.node());
            int id = v.node().intValue();
            if (id < 0 || id >= limit)
                throw v.error("token id " + id + " is outside the vocab: ids must be 0.." + (n - 1) + " (" + n
                        + " tokens; holes of up to " + HOLE_SLACK + " are tolerated)");
            String other = seen.putIfAbsent(id, e.getKey());
            if (other != null)
                throw v.error("token id " + id + " is used twice ('" + other + "' and '" + e.getKey()
                        + "'): each id must name one token");
            m.put(e.getKey(), id);
        }
        return m;
    }

    static String[] invert(Map<String, Integer> vocab) {
        int max = -1;
        for (int id : vocab.values()) max = Math.max(max, id);
        String[] byId = new String[max + 1];
        for (var e : vocab.entrySet()) byId[e.getValue()] = e.getKey();
        return byId;
    }
}
