package dev.cortado.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.RateLimitException;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import dev.cortado.engine.Engine;
import dev.cortado.generate.GenerationResult;
import dev.cortado.server.OpenAiServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Many clients at once through the official client: 32 concurrent clients × 20 requests, streamed and not, each
 * with its own prompt and length → every response is the greedy text of its own prompt ({@link
 * dev.cortado.generate.Generator} alone), none lost, KV blocks all back at the end; and with a small queue the
 * overflow is refused with 429 at once while every admitted request is still right.
 */
class ServeLoadTest {
    static final int CLIENTS = 32, REQUESTS = 20;

    /** The greedy reference per (prompt, max_tokens), computed once each by Generator alone. */
    final Map<String, String> reference = new ConcurrentHashMap<>();

    String want(Path dir, String prompt, int maxTokens) {
        return reference.computeIfAbsent(prompt + "\u0000" + maxTokens, k -> {
            List<GenerationResult> r = ServeFixture.direct(dir, ServeFixture.base(dir).maxNewTokens(maxTokens), List.of(prompt));
            return r.getFirst().text();
        });
    }

    static String prompt(int client, int request) {
        return BatchCliTest.PROMPTS[(client * 7 + request) % BatchCliTest.PROMPTS.length];
    }

    static int maxTokens(int client, int request) {
        return 3 + (client + request * 3) % 9;
    }

    static String complete(OpenAIClient c, String prompt, int maxTokens, boolean stream) {
        CompletionCreateParams p = CompletionCreateParams.builder().model("stories260K").prompt(prompt).maxTokens(maxTokens)
                .temperature(0.0).build();
        if (!stream) return c.completions().create(p).choices().getFirst().text();
        StringBuilder text = new StringBuilder();
        try (StreamResponse<Completion> s = c.completions().createStreaming(p)) {
            s.stream().forEach(ch -> ch.choices().forEach(x -> text.append(x.text())));
        }
        return text.toString();
    }

    @Test
    void thirtyTwoClientsTimesTwentyRequestsEachGetTheirOwnAnswer() throws Exception {
        Path dir = ServeFixture.stories();
        for (int c = 0; c < CLIENTS; c++) for (int r = 0; r < REQUESTS; r++) want(dir, prompt(c, r), maxTokens(c, r));
        try (OpenAiServer server = ServeFixture.start(ServeFixture.loopback(), dir)) {
            OpenAIClient client = ServeFixture.client(server, null, false);
            AtomicInteger ok = new AtomicInteger();
            List<String> wrong = java.util.Collections.synchronizedList(new ArrayList<>());
            long t0 = System.nanoTime();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> fs = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int cl = c;
                    fs.add(pool.submit(() -> {
                        for (int r = 0; r < REQUESTS; r++) {
                            String p = prompt(cl, r);
                            int n = maxTokens(cl, r);
                            String got = complete(client, p, n, (cl + r) % 2 == 0);
                            if (got.equals(want(dir, p, n))) ok.incrementAndGet();
                            else wrong.add("client " + cl + " request " + r + " '" + p + "' got '" + got + "'");
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) f.get(120, TimeUnit.SECONDS);
            } finally {
                client.close();
            }
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("serve load: %d requests from %d clients in %.1f s%n", CLIENTS * REQUESTS, CLIENTS, s);
            assertEquals(List.of(), wrong);
            assertEquals(CLIENTS * REQUESTS, ok.get(), "none lost");
            Engine engine = server.engine("stories260K");
            for (int i = 0; i < 200 && engine.pool().inUse() > 0; i++) Thread.sleep(10);
            assertEquals(0, engine.pool().inUse(), "every block back in the pool");
            assertTrue(s < 60, "the load finished in " + s + " s");
        }
    }

    @Test
    void aFullQueueRefusesWith429AndNeverHangs() throws Exception {
        Path dir = ServeFixture.stories();
        try (OpenAiServer server = ServeFixture.start(ServeFixture.loopback().maxQueue(4), dir)) {
            OpenAIClient client = ServeFixture.client(server, null, false);
            AtomicInteger ok = new AtomicInteger(), refused = new AtomicInteger();
            List<String> wrong = java.util.Collections.synchronizedList(new ArrayList<>());
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Future<?>> fs = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    int cl = c;
                    fs.add(pool.submit(() -> {
                        for (int r = 0; r < 3; r++) {
                            String p = prompt(cl, r);
                            try {
                                String got = complete(client, p, 40, r % 2 == 1);
                                if (got.equals(want(dir, p, 40))) ok.incrementAndGet();
                                else wrong.add(p + " got '" + got + "'");
                            } catch (RateLimitException e) {
                                refused.incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : fs) f.get(120, TimeUnit.SECONDS); // never a hang
            } finally {
                client.close();
            }
            assertEquals(List.of(), wrong);
            assertEquals(CLIENTS * 3, ok.get() + refused.get(), "every request answered");
            assertTrue(refused.get() > 0, "with 32 clients and --max-queue 4 some are refused");
            assertTrue(ok.get() >= 4, "and the admitted ones are served: " + ok.get());
        }
    }
}
