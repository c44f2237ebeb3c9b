package dev.cortado.langchain4j;

import static dev.cortado.langchain4j.Direct.msg;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import dev.cortado.engine.Completion;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.output.FinishReason;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LangChain4j tool specifications on Cortado's tool calling, with stories260K under Qwen3's chat template (hermes
 * {@code <tool_call>} syntax; 2048 positions, as the core's BatchToolsTest): REQUIRED gives exactly one call whose
 * arguments fit the parameters, as a tool execution request (finish reason TOOL_EXECUTION), streamed as one
 * {@code onCompleteToolCall}; an AI message with tool execution requests and the tool's result go back through the
 * template as the OpenAI messages a direct caller would render (same prompt tokens, same greedy reply).
 */
class ToolCallingTest {
    @TempDir static Path tmp;
    static Direct direct;
    static CortadoChatModel model;

    static final ToolSpecification GET_TIME = ToolSpecification.builder().name("get_time")
            .description("The current time in a city")
            .parameters(JsonObjectSchema.builder().addEnumProperty("zone", List.of("Tokyo", "Paris", "UTC")).required("zone").build())
            .build();
    /** The same tool as an OpenAI request would list it, written by hand. */
    static final String TOOLS_JSON = "[{\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"description\":\"The current time "
            + "in a city\",\"parameters\":{\"type\":\"object\",\"properties\":{\"zone\":{\"type\":\"string\",\"enum\":[\"Tokyo\","
            + "\"Paris\",\"UTC\"]}},\"required\":[\"zone\"]}}}]";

    @BeforeAll
    static void open() throws Exception {
        Path dir = Fixtures.toolModel(tmp);
        direct = new Direct(dir);
        model = CortadoChatModel.builder().modelPath(dir).temperature(0.0).build();
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
        if (direct != null) direct.close();
    }

    static void assertValidCall(ToolExecutionRequest call) throws Exception {
        assertEquals("get_time", call.name());
        assertTrue(call.id().startsWith("call_"), call.id());
        JsonNode args = Fixtures.M.readTree(call.arguments());
        assertEquals(1, args.size(), args.toString());
        assertTrue(List.of("Tokyo", "Paris", "UTC").contains(args.get("zone").asText()), args.toString());
    }

    @Test
    void requiredToolChoiceGivesOneValidCall() throws Exception {
        ChatRequest request = ChatRequest.builder().messages(UserMessage.from("What time is it in Tokyo?"))
                .toolSpecifications(GET_TIME).toolChoice(ToolChoice.REQUIRED).maxOutputTokens(200).build();
        ChatResponse r = model.chat(request);
        assertEquals(FinishReason.TOOL_EXECUTION, r.finishReason());
        assertNull(r.aiMessage().text());
        assertEquals(1, r.aiMessage().toolExecutionRequests().size());
        assertValidCall(r.aiMessage().toolExecutionRequests().getFirst());

        // streamed: the call arrives whole, once, and the response carries it
        AiServicesStreamingTest.Recorder rec = new AiServicesStreamingTest.Recorder() {
            final List<CompleteToolCall> calls = new CopyOnWriteArrayList<>();

            @Override
            public void onCompleteToolCall(CompleteToolCall call) {
                calls.add(call);
                assertEquals(0, call.index());
                assertEquals(1, calls.size());
            }
        };
        model.streamingModel().chat(request, rec);
        ChatResponse s = rec.done.get(60, TimeUnit.SECONDS);
        assertEquals(FinishReason.TOOL_EXECUTION, s.finishReason());
        assertEquals(1, s.aiMessage().toolExecutionRequests().size());
        ToolExecutionRequest a = r.aiMessage().toolExecutionRequests().getFirst(), b = s.aiMessage().toolExecutionRequests().getFirst();
        assertEquals(a.name(), b.name());
        assertEquals(a.arguments(), b.arguments()); // greedy: the same call
        assertEquals(r.tokenUsage(), s.tokenUsage());
    }

    @Test
    void toolResultsGoBackThroughTheTemplate() throws Exception {
        ToolExecutionRequest call = ToolExecutionRequest.builder().id("call_1").name("get_time").arguments("{\"zone\":\"Tokyo\"}").build();
        ChatResponse r = model.chat(ChatRequest.builder()
                .messages(UserMessage.from("What time is it in Tokyo?"), AiMessage.from(call),
                        ToolExecutionResultMessage.from(call, "12:00"))
                .toolSpecifications(GET_TIME).toolChoice(ToolChoice.NONE).maxOutputTokens(16).build());
        // the OpenAI messages a direct caller renders: arguments as an object (as vLLM passes them to templates), the
        // assistant's missing content as ""
        Map<String, Object> fn = Map.of("name", "get_time", "arguments", Map.of("zone", "Tokyo"));
        Map<String, Object> assistant = new LinkedHashMap<>();
        assistant.put("role", "assistant");
        assistant.put("content", "");
        assistant.put("tool_calls", List.of(Map.of("id", "call_1", "type", "function", "function", fn)));
        List<Map<String, Object>> messages = List.of(msg("user", "What time is it in Tokyo?"), assistant,
                Map.of("role", "tool", "tool_call_id", "call_1", "content", "12:00"));
        List<Object> tools = Fixtures.M.readValue(TOOLS_JSON, new TypeReference<>() {});
        Completion want = direct.chat(messages, Map.of("tools", tools), direct.greedy(16));
        assertTrue(direct.template.applyChatTemplate(messages, true, Map.of("tools", tools)).contains("12:00"));
        assertEquals(want.promptTokens(), r.tokenUsage().inputTokenCount());
        assertEquals(want.results().getFirst().text(), r.aiMessage().text());
        assertTrue(!r.aiMessage().hasToolExecutionRequests());
    }

    @Test
    void autoWithAReplyThatIsNoCallIsText() {
        ChatResponse r = model.chat(ChatRequest.builder().messages(UserMessage.from("Tell me a story."))
                .toolSpecifications(GET_TIME).maxOutputTokens(16).build());
        List<Object> tools;
        try {
            tools = Fixtures.M.readValue(TOOLS_JSON, new TypeReference<>() {});
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        Completion want = direct.chat(List.of(msg("user", "Tell me a story.")), Map.of("tools", tools), direct.greedy(16));
        assertEquals(want.results().getFirst().text(), r.aiMessage().text());
        assertEquals(want.promptTokens(), r.tokenUsage().inputTokenCount());
        assertTrue(!r.aiMessage().hasToolExecutionRequests());
    }
}
