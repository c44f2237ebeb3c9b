package dev.cortado.tokenizer.pretokenizers;

import dev.cortado.tokenizer.Json;
import dev.cortado.tokenizer.TextPattern;
import dev.cortado.tokenizer.TextPattern.IntPairs;
import java.util.ArrayList;
import java.util.List;

/** HF Split pre-tokenizer and the split behaviours (Isolated, Removed, MergedWithPrevious/Next, Contiguous). */
public final class Splitter implements PreTokenizer {
    public enum Behavior { ISOLATED, REMOVED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS }

    private final TextPattern pattern;
    private final Behavior behavior;
    private final boolean invert;

    public Splitter(TextPattern pattern, Behavior behavior, boolean invert) {
        this.pattern = pattern;
        this.behavior = behavior;
        this.invert = invert;
    }

    public static Splitter fromJson(Json j) {
        return new Splitter(TextPattern.fromJson(j.obj("pattern")), behavior(j), j.bool("invert", false));
    }

    static Behavior behavior(Json j) {
        String b = j.str("behavior");
        return switch (b) {
            case "Isolated" -> Behavior.ISOLATED;
            case "Removed" -> Behavior.REMOVED;
            case "MergedWithPrevious" -> Behavior.MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> Behavior.MERGED_WITH_NEXT;
            case "Contiguous" -> Behavior.CONTIGUOUS;
            default -> throw j.get("behavior").error("unknown split behavior '" + b + "'");
        };
    }

    @Override
    public void split(String text, List<String> out) {
        IntPairs m = new IntPairs();
        pattern.findAll(text, m);
        apply(text, m, behavior, invert, out);
    }

    /** Splits {@code text} around the match ranges {@code m} according to {@code behavior}. */
    public static void apply(String text, IntPairs m, Behavior behavior, boolean invert, List<String> out) {
        // (start, end, isMatch) covering the text
        List<int[]> parts = new ArrayList<>(m.size() * 2 + 1);
        int prev = 0;
        for (int k = 0; k < m.size(); k++) {
            if (m.start(k) > prev) parts.add(new int[] {prev, m.start(k), invert ? 1 : 0});
            parts.add(new int[] {m.start(k), m.end(k), invert ? 0 : 1});
            prev = m.end(k);
        }
        if (prev < text.length()) parts.add(new int[] {prev, text.length(), invert ? 1 : 0});
        List<int[]> res = new ArrayList<>(parts.size());
        switch (behavior) {
            case ISOLATED -> res = parts;
            case REMOVED -> {
                for (int[] p : parts) if (p[2] == 0) res.add(p);
            }
            case CONTIGUOUS -> {
                for (int[] p : parts) {
                    int[] last = res.isEmpty() ? null : res.getLast();
                    if (last != null && last[2] == p[2]) last[1] = p[1];
                    else res.add(p.clone());
                }
            }
            case MERGED_WITH_PREVIOUS -> {
                boolean prevMatch = false;
                for (int[] p : parts) {
                    if (p[2] == 1 && !prevMatch && !res.isEmpty()) res.getLast()[1] = p[1];
                    else res.add(p.clone());
                    prevMatch = p[2] == 1;
                }
            }
            case MERGED_WITH_NEXT -> {
                boolean prevMatch = false;
                for (int i = parts.size() - 1; i >= 0; i--) {
                    int[] p = parts.get(i);
                    if (p[2] == 1 && !prevMatch && !res.isEmpty()) res.getLast()[0] = p[0];
                    else res.add(p.clone());
                    prevMatch = p[2] == 1;
                }
                res = res.reversed();
            }
        }
        for (int[] p : res) if (p[1] > p[0]) out.add(text.substring(p[0], p[1]));
    }
}
