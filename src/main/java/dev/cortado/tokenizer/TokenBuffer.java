package dev.cortado.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Growable (id, token, typeId) list that models and post-processors append to. */
public final class TokenBuffer {
    private int[] ids = new int[16];
    private int[] typeIds = new int[16];
    private final List<String> tokens = new ArrayList<>();
    private int size;

    public void add(int id, String token) {
        add(id, token, 0);
    }

    public void add(int id, String token, int typeId) {
        if (size == ids.length) {
            ids = Arrays.copyOf(ids, size * 2);
            typeIds = Arrays.copyOf(typeIds, size * 2);
        }
        ids[size] = id;
        typeIds[size] = typeId;
        tokens.add(token);
        size++;
    }

    public int size() {
        return size;
    }

    public int id(int i) {
        return ids[i];
    }

    public String token(int i) {
        return tokens.get(i);
    }

    public int typeId(int i) {
        return typeIds[i];
    }

    /** Keeps {@code [from, to)}. */
    public void keep(int from, int to) {
        int n = to - from;
        System.arraycopy(ids, from, ids, 0, n);
        System.arraycopy(typeIds, from, typeIds, 0, n);
        List<String> sub = new ArrayList<>(tokens.subList(from, to));
        tokens.clear();
        tokens.addAll(sub);
        size = n;
    }

    public int[] ids() {
        return Arrays.copyOf(ids, size);
    }

    public Encoding toEncoding() {
        int[] mask = new int[size];
        Arrays.fill(mask, 1);
        return new Encoding(Arrays.copyOf(ids, size), tokens.toArray(String[]::new), Arrays.copyOf(typeIds, size),
                mask);
    }
}
