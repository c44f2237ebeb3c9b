package dev.cortado.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The load side of bench serve: seeded request lists and arrivals, traces, token comparison (no timing asserted). */
class ServeLoadTest {
    @Test
    void requestListIsSeededWithLengthsInRange() {
        List<ServeLoad.Req> a = ServeLoad.requests(200, 1000, 4, 12, 2, 6, 7), b = ServeLoad.requests(200, 1000, 4, 12, 2, 6, 7);
        boolean[] promptSeen = new boolean[13], genSeen = new boolean[7];
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(a.get(i).prompt(), b.get(i).prompt());
            assertEquals(a.get(i).maxNew(), b.get(i).maxNew());
            int p = a.get(i).prompt().length, g = a.get(i).maxNew();
            assertTrue(p >= 4 && p <= 12 && g >= 2 && g <= 6, p + " " + g);
            promptSeen[p] = true;
            genSeen[g] = true;
            for (int id : a.get(i).prompt()) assertTrue(id >= 0 && id < 1000);
        }
        for (int p = 4; p <= 12; p++) assertTrue(promptSeen[p], "prompt length " + p + " drawn");
        for (int g = 2; g <= 6; g++) assertTrue(genSeen[g], "gen length " + g + " drawn");
    }

    @Test
    void poissonArrivalsAreSeededIncreasingAtTheRate() {
        long[] at = ServeLoad.poissonArrivals(20000, 4.0, 3);
        assertArrayEquals(at, ServeLoad.poissonArrivals(20000, 4.0, 3));
        assertEquals(0, at[0]);
        for (int i = 1; i < at.length; i++) assertTrue(at[i] >= at[i - 1]);
        double rate = (at.length - 1) / (at[at.length - 1] / 1e9);
        assertEquals(4.0, rate, 0.15, "mean arrival rate over 20,000 seeded arrivals");
    }

    @Test
    void traceKeepsOnlyItsOwnTokensAndCompletesAtItsLength() {
        ServeLoad.Trace t = new ServeLoad.Trace(new ServeLoad.Req(0, new int[] {1, 2}, 2));
        t.token(5);
        assertTrue(!t.finished.isDone());
        t.token(6);
        t.token(7); // a static batch running on past this request's length
        assertTrue(t.finished.isDone());
        assertArrayEquals(new int[] {5, 6}, t.tokens());
    }

    @Test
    void compareNamesTheFirstDifference() {
        ServeLoad.Req r0 = new ServeLoad.Req(0, new int[] {1}, 3), r1 = new ServeLoad.Req(1, new int[] {1}, 3);
        ServeLoad.Outcome ref = outcome(List.of(r0, r1), new int[][] {{1, 2, 3}, {4, 5, 6}});
        assertEquals("same", ServeReport.compare(ref, outcome(List.of(r0, r1), new int[][] {{1, 2, 3}, {4, 5, 6}})));
        assertEquals("DIFFER: 1/2 requests (first: request 1 from step 2)",
                ServeReport.compare(ref, outcome(List.of(r0, r1), new int[][] {{1, 2, 3}, {4, 5, 9}})));
    }

    private static ServeLoad.Outcome outcome(List<ServeLoad.Req> reqs, int[][] tokens) {
        List<ServeLoad.Trace> traces = reqs.stream().map(ServeLoad.Trace::new).toList();
        for (int i = 0; i < tokens.length; i++) for (int id : tokens[i]) traces.get(i).token(id);
        return new ServeLoad.Outcome(traces, 0, 1);
    }
}
