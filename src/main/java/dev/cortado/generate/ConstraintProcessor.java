package dev.cortado.generate;

import dev.cortado.generate.constraint.Constraint;
import dev.cortado.generate.constraint.TokenMasks;
import dev.cortado.generate.constraint.TokenVocabulary;
import dev.cortado.CortadoException;
import dev.cortado.generate.LogitsProcessor;
import dev.cortado.generate.TokenHistory;
import dev.cortado.tokenizer.Tokenizer;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Sets the score of every token the constraint does not allow next to -inf. A row's automaton state is a function
 * of its generated tokens, kept in a tree of the token sequences seen (so greedy, sampling and beam search, whose beams
 * fork and reorder, all find each row's state without bookkeeping). EOS ids are allowed exactly where the text so
 * far is accepted; a row whose history already left the language (a beam kept at -inf) gets -inf everywhere.
 * One instance per generate call; not thread-safe.
 */
public final class ConstraintProcessor implements LogitsProcessor {
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    private final Constraint constraint;
    private final TokenMasks masks;
    private final Tokenizer tokenizer;
    private final int[] eos;
    private final Node root;

    public ConstraintProcessor(Constraint constraint, Tokenizer tokenizer, List<Integer> eosTokenIds) {
        if (tokenizer == null) throw new CortadoException("a constraint needs the model's tokenizer");
        if (eosTokenIds.isEmpty())
            throw new CortadoException("constrained generation needs an eos_token_id to end the output; "
                    + "set eos_token_id in the generation config");
        this.constraint = constraint;
        this.tokenizer = tokenizer;
        this.masks = constraint.masks(TokenVocabulary.of(tokenizer));
        this.eos = eosTokenIds.stream().mapToInt(Integer::intValue).toArray();
        this.root = new Node(masks.start());
    }

    @Override
    public void process(TokenHistory h, float[] scores) {
        Node n = root;
        for (int i = h.promptLength(); i < h.length() && n.state >= 0; i++) n = n.child(h.get(i), n == root, masks);
        if (n.state < 0) {
            java.util.Arrays.fill(scores, NEG_INF);
            return;
        }
        long[] m = masks.mask(n.state, n == root);
        boolean accepting = masks.accepting(n.state);
        float[] eosScores = new float[eos.length];
        for (int k = 0; k < eos.length; k++) eosScores[k] = eos[k] < scores.length ? scores[eos[k]] : NEG_INF;
        boolean any = false;
        int limit = Math.min(scores.length, m.length << 6);
        for (int w = 0; w < m.length; w++) {
            long bits = m[w];
            int base = w << 6;
            if (bits == -1L && base + 64 <= limit) {
                any = true;
                continue;
            }
            for (int b = 0; b < 64 && base + b < limit; b++) {
                if ((bits & (1L << b)) == 0) scores[base + b] = NEG_INF;
                else any = true;
            }
        }
        for (int i = limit; i < scores.length; i++) scores[i] = NEG_INF;
        for (int k = 0; k < eos.length; k++) {
            if (eos[k] >= scores.length) continue;
            scores[eos[k]] = accepting ? eosScores[k] : NEG_INF;
            any |= accepting;
        }
        if (!any) throw new CortadoException("constrained generation: no token of the vocabulary can continue "
                + quote(tokenizer.decode(h.generated(), true)) + " under " + constraint.describe()
                + "; the tokenizer cannot spell what the constraint requires");
        boolean finite = false;
        for (int i = 0; i < scores.length && !finite; i++) finite = scores[i] > NEG_INF;
        if (!finite) throw new CortadoException("constrained generation: every token " + constraint.describe()
                + " allows after " + quote(tokenizer.decode(h.generated(), true)) + " is banned by another setting "
                + "(min_new_tokens, bad_words_ids, no_repeat_ngram_size, logit_bias); relax it");
    }

    private static String quote(String s) {
        return "'" + (s.length() > 80 ? "..." + s.substring(s.length() - 77) : s) + "'";
    }

    /** A generated-token prefix and its automaton state. */
    private static final class Node {
        final int state;
        private Map<Integer, Node> children;

        Node(int state) {
            this.state = state;
        }

        Node child(int id, boolean atStart, TokenMasks masks) {
            if (children == null) children = new HashMap<>(4);
            Node c = children.get(id);
            if (c == null) {
                c = new Node(masks.next(state, id, atStart));
                children.put(id, c);
            }
            return c;
        }
    }
}
