package dev.cortado.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class MutationsTest {
    private static final byte[] DATA = "0123456789abcdefghijklmnopqrstuvwxyz".getBytes();
    private static final String JSON = "{\"a\":1,\"b\":[1,2,{\"c\":\"x\"}],\"d\":{\"e\":2.5}}";

    @Test
    void sameSeedSameMutants() {
        Mutations a = new Mutations(42), b = new Mutations(42);
        for (int i = 0; i < 200; i++) {
            assertArrayEquals(a.bytes(DATA, new int[] {8}), b.bytes(DATA, new int[] {8}));
            assertEquals(a.lastDescription(), b.lastDescription());
            assertEquals(a.json(JSON), b.json(JSON));
        }
    }

    @Test
    void mutantsDifferFromTheInputAndLeaveItAlone() {
        byte[] copy = DATA.clone();
        Mutations m = new Mutations(7);
        int changed = 0, jsonChanged = 0;
        for (int i = 0; i < 500; i++) {
            if (!Arrays.equals(m.bytes(DATA), DATA)) changed++;
            if (!m.json(JSON).equals(JSON)) jsonChanged++;
        }
        assertArrayEquals(copy, DATA);
        assertTrue(changed >= 490, "almost every byte mutation changes the input (a bit flipped twice may not): " + changed);
        assertTrue(jsonChanged >= 490, "almost every JSON mutation changes the input: " + jsonChanged);
    }

    @Test
    void textMutationsCoverEveryBranchWithoutThrowing() {
        Mutations m = new Mutations(3);
        java.util.Set<String> kinds = new java.util.TreeSet<>();
        for (int i = 0; i < 2000; i++) {
            m.text(JSON);
            kinds.add(m.lastDescription().replaceAll("[0-9 ]+", " ").trim().split(" ")[0]);
        }
        assertEquals(java.util.Set.of("truncate", "delete", "insert", "deeply"), kinds);
    }

    @Test
    void varintsEncodeLikeProtobuf() {
        Mutations m = new Mutations(1);
        byte[] v;
        do v = m.varint(300); while (v.length == 11);
        assertArrayEquals(new byte[] {(byte) 0xAC, 0x02}, v);
        do v = m.varint(-1); while (v.length == 11);
        assertEquals(10, v.length);
        assertNotEquals(0, v[9]);
    }
}
