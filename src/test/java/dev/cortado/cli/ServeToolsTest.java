package dev.cortado.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.openai.client.OpenAIClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import dev.cortado.server.OpenAiServer;
import dev.cortado.testing.Shared;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tool calling through {@code cortado serve} with the official OpenAI Java client (responses validated by the
 * client): stories260K with the Qwen3 chat template; {@code tool_choice: required}, a named function after a tool
 * round trip (the client's own assistant message and a tool message sent back), and a streamed required call each
 * give a call whose arguments validate against the function's parameters (networknt).
 */
class ServeToolsTest {
    static final ObjectMapper M = new ObjectMapper();
    @TempDir static Path tmp;
    static OpenAiServer server;
    static OpenAIClient client;
    static JsonNode tools;

    @BeforeAll
    static void start() throws Exception {
        Path src = ServeFixture.stories(), dir = Files.createDirectories(tmp.resolve("stories-qwen"));
        for (String f : new String[] {"generation_config.json", "model.safetensors", "tokenizer.json"})
            Files.copy(src.resolve(f), dir.resolve(f));
        // 2048 positions (RoPE runs any length): the tool definitions take ~750 of stories260K's 512-token vocabulary
        ObjectNode config = (ObjectNode) M.readTree(src.resolve("config.json").toFile());
        Files.writeString(dir.resolve("config.json"), config.put("max_position_embeddings", 2048).toString());
        ObjectNode tc = (ObjectNode) M.readTree(src.resolve("tokenizer_config.json").toFile());
        tc.put("chat_template", M.readTree(Shared.require("models/tokenizers/qwen3/tokenizer_config.json").toFile())
                .get("chat_template").asText());
        Files.writeString(dir.resolve("tokenizer_config.json"), tc.toString());
        tools = M.readTree(ServeToolsTest.class.getResource("/goldens/tokenizers/chat_tools.json")).at("/cases/0/body/tools");
        server = ServeFixture.start(ServeFixture.loopback(), dir);
        client = ServeFixture.client(server, null);
    }

    @AfterAll
    static void stop() {
        if (client != null) client.close();
        if (server != null) server.close();
    }

    static ChatCompletionCreateParams.Builder request() {
        ChatCompletionCreateParams.Builder b = ChatCompletionCreateParams.builder().model("stories-qwen")
                .addUserMessage("What is the weather in Paris?").maxCompletionTokens(200).temperature(0.0);
        for (JsonNode t : tools) {
            JsonNode f = t.get("function");
            Map<String, Object> params = M.convertValue(f.get("parameters"), new TypeReference<>() {});
            FunctionParameters.Builder p = FunctionParameters.builder();
            params.forEach((k, v) -> p.putAdditionalProperty(k, JsonValue.from(v)));
            b.addTool(ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name(f.get("name").asText())
                    .description(f.get("description").asText()).parameters(p.build()).build()).build());
        }
        return b;
    }

    /** The arguments validate against the named function's parameters. */
    static void assertValid(String name, String arguments) throws Exception {
        JsonNode params = null;
        for (JsonNode t : tools) if (t.at("/function/name").asText().equals(name)) params = t.at("/function/parameters");
        assertNotNull(params, "unknown function " + name);
        JsonNode args = M.readTree(arguments);
        var v = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(params);
        assertEquals(0, v.validate(args).size(), args + " " + v.validate(args));
    }

    @Test
    void requiredThenRoundTripWithANamedFunction() throws Exception {
        ChatCompletion first = client.chat().completions().create(request()
                .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build());
        var choice = first.choices().getFirst();
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
        assertTrue(choice.message().content().isEmpty());
        assertEquals(1, choice.message().toolCalls().orElseThrow().size());
        ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().getFirst().asFunction();
        assertValid(call.function().name(), call.function().arguments());

        ChatCompletion second = client.chat().completions().create(request()
                .addMessage(choice.message())
                .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(call.id()).content("{\"ok\": true}").build())
                .toolChoice(ChatCompletionNamedToolChoice.builder().function(
                        ChatCompletionNamedToolChoice.Function.builder().name("get_time").build()).build())
                .build());
        var c2 = second.choices().getFirst();
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, c2.finishReason());
        var call2 = c2.message().toolCalls().orElseThrow().getFirst().asFunction();
        assertEquals("get_time", call2.function().name());
        assertValid("get_time", call2.function().arguments());
        assertTrue(second.usage().orElseThrow().promptTokens() > first.usage().orElseThrow().promptTokens());
    }

    @Test
    void streamedRequiredCall() throws Exception {
        Map<Long, String[]> calls = new HashMap<>();
        String[] finish = new String[1];
        try (StreamResponse<ChatCompletionChunk> s = client.chat().completions().createStreaming(request()
                .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build())) {
            s.stream().forEach(ch -> ch.choices().forEach(c -> {
                c.delta().toolCalls().ifPresent(tcs -> tcs.forEach(tc -> {
                    String[] acc = calls.computeIfAbsent(tc.index(), i -> new String[] {"", ""});
                    tc.function().ifPresent(f -> {
                        f.name().ifPresent(n -> acc[0] += n);
                        f.arguments().ifPresent(a -> acc[1] += a);
                    });
                }));
                c.finishReason().ifPresent(f -> finish[0] = f.asString());
            }));
        }
        assertEquals("tool_calls", finish[0]);
        assertEquals(1, calls.size());
        assertValid(calls.get(0L)[0], calls.get(0L)[1]);
    }
}
