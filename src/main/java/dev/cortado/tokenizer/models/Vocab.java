package dev.cortado.tokenizer.models;

import dev.cortado.tokenizer.Json;
import java.util.HashMap;
import java.util.Map;

/** Vocabulary helpers shared by the models. */
final class Vocab {
    private Vocab() {}

    static Map<String, Integer> map(Json vocab) {
        Map<String, Integer> m = new HashMap<>(vocab.node().size() * 2);
        for (var e : vocab.fields()) {
            int id = e.getValue().asInt();
            if (id < 0) throw e.getValue().error("negative token id " + id);
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
