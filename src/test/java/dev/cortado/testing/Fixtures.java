package dev.cortado.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/** Shared helpers for golden-file tests over models/fixtures (built by models/fixtures/build_fixtures.py). */
public final class Fixtures {
    public static final Path ROOT = Path.of("models/fixtures");

    private Fixtures() {}

    public static JsonNode goldens(String name) {
        try {
            return new ObjectMapper().readTree(ROOT.resolve(name).resolve("goldens.json").toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static int[] ints(JsonNode a) {
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) r[i] = a.get(i).asInt();
        return r;
    }

    public static int argmax(float[] a) {
        int b = 0;
        for (int i = 1; i < a.length; i++) if (a[i] > a[b]) b = i;
        return b;
    }
}
