package dev.cortado.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.cortado.testing.Shared;
import dev.cortado.tokenizer.TokenizerConfig;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Tool-calling prompts vs Python Jinja2 in transformers' chat-template environment
 * ({@code models/goldens/make_tool_template_goldens.py}: tools, assistant tool_calls, tool messages on the Qwen3
 * template and a plain-JSON-syntax template); the call syntax read off the template; replies split into calls.
 */
class ChatToolsPromptTest {
    static final ObjectMapper M = new ObjectMapper();

    static JsonNode goldens() throws Exception {
        return M.readTree(ChatToolsPromptTest.class.getResource("/goldens/tokenizers/chat_tools.json"));
    }

    @Test
    void promptsMatchJinja2() throws Exception {
        JsonNode g = goldens();
        TokenizerConfig qwen = TokenizerConfig.load(Shared.require("models/tokenizers/qwen3/tokenizer_config.json"));
        ObjectNode json = M.createObjectNode().put("bos_token", "<s>").put("eos_token", "</s>")
                .put("chat_template", g.get("json_template").asText());
        TokenizerConfig plain = TokenizerConfig.fromJson(json.toString());
        int n = 0;
        for (JsonNode c : g.get("cases")) {
            TokenizerConfig cfg = c.get("template").asText().equals("qwen3") ? qwen : plain;
            ChatRequest r = ChatRequest.parse(c.get("body"));
            assertEquals(c.get("text").asText(), r.tools().prompt(cfg, r.messages(), "m"), "case " + n);
            n++;
        }
        assertEquals(8, n);
    }

    @Test
    void syntaxFromTemplate() throws Exception {
        TokenizerConfig qwen = TokenizerConfig.load(Shared.require("models/tokenizers/qwen3/tokenizer_config.json"));
        assertEquals(ToolCallSyntax.HERMES, ToolCallSyntax.detect(qwen.chatTemplate()));
        assertEquals(ToolCallSyntax.JSON, ToolCallSyntax.detect(goldens().get("json_template").asText()));
        assertEquals("parameters", ToolCallSyntax.detect("{{ '{\"name\": name, \"parameters\": {...}}' }}").argumentsKey());
        ApiException e = assertThrows(ApiException.class, () -> ToolCallSyntax.detect("{{ '[TOOL_CALLS]' }}{{ tools }}"));
        assertTrue(e.getMessage().contains("[TOOL_CALLS]") && e.getMessage().contains("remove 'tools'"), e.getMessage());
    }

    @Test
    void phi3TemplateIgnoresTools() throws Exception {
        TokenizerConfig phi = TokenizerConfig.load(Shared.require(
                "models/tokenizers/phi-3-mini-4k-instruct/tokenizer_config.json"));
        ChatRequest r = ChatRequest.parse(goldens().get("cases").get(0).get("body"));
        ApiException e = assertThrows(ApiException.class, () -> r.tools().prompt(phi, r.messages(), "phi"));
        assertEquals("tools_unsupported", e.code());
        assertTrue(e.getMessage().contains("does not render 'tools'"), e.getMessage());
    }

    @Test
    void parseReplies() {
        Set<String> names = Set.of("get_weather", "get_time");
        var h = ToolCallSyntax.HERMES.parse("Let me look.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
                + "{\"city\": \"Paris\"}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": "
                + "\"{\\\"zone\\\":\\\"UTC\\\"}\"}\n</tool_call>", names);
        assertEquals("Let me look.", h.content());
        assertEquals(List.of(new ToolCallSyntax.Call("get_weather", "{\"city\":\"Paris\"}"),
                new ToolCallSyntax.Call("get_time", "{\"zone\":\"UTC\"}")), h.calls());
        var unknown = ToolCallSyntax.HERMES.parse("<tool_call>{\"name\":\"rm\",\"arguments\":{}}</tool_call>", names);
        assertTrue(unknown.calls().isEmpty());
        assertEquals("<tool_call>{\"name\":\"rm\",\"arguments\":{}}</tool_call>", unknown.content());
        var j = ToolCallSyntax.JSON.parse(" {\"name\":\"get_time\",\"arguments\":{\"zone\":\"UTC\"}} ", names);
        assertNull(j.content());
        assertEquals(List.of(new ToolCallSyntax.Call("get_time", "{\"zone\":\"UTC\"}")), j.calls());
        assertTrue(ToolCallSyntax.JSON.parse("{\"name\":\"get_time\",\"arguments\":{}} and more", names).calls().isEmpty());
        assertTrue(ToolCallSyntax.JSON.parse("Once upon a time", names).calls().isEmpty());
    }

    @Test
    void constraintIsTheCallLanguage() throws Exception {
        ObjectNode body = (ObjectNode) goldens().get("cases").get(0).get("body").deepCopy();
        ChatRequest r = ChatRequest.parse(body.put("tool_choice", "required"));
        var c = r.tools().constraint(ToolCallSyntax.HERMES);
        assertTrue(c.matches("<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"Paris\",\"unit\":\"celsius\"}}\n</tool_call>"));
        assertTrue(c.matches("<tool_call>\n{\"name\":\"get_time\",\"arguments\":{\"zone\":\"UTC\"}}\n</tool_call>"));
        assertFalse(c.matches("<tool_call>\n{\"name\":\"get_time\",\"arguments\":{\"city\":\"UTC\"}}\n</tool_call>"));
        assertFalse(c.matches("{\"name\":\"get_time\",\"arguments\":{\"zone\":\"UTC\"}}"));
        assertTrue(r.tools().constraint(ToolCallSyntax.JSON).matches("{\"name\":\"get_time\",\"arguments\":{\"zone\":\"UTC\"}}"));
    }

    @Test
    void defsAreHoisted() throws Exception {
        JsonNode body = M.readTree("""
                {"messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"function","function":{"name":"add"}},
                 "tools":[{"type":"function","function":{"name":"add","parameters":{"type":"object",
                   "properties":{"p":{"$ref":"#/$defs/Point"}},"required":["p"],
                   "$defs":{"Point":{"type":"object","properties":{"x":{"type":"integer","minimum":0,"maximum":9}},
                     "required":["x"],"additionalProperties":false}}}}}]}""");
        var c = ChatRequest.parse(body).tools().constraint(ToolCallSyntax.JSON);
        assertTrue(c.matches("{\"name\":\"add\",\"arguments\":{\"p\":{\"x\":3}}}"));
        assertFalse(c.matches("{\"name\":\"add\",\"arguments\":{\"p\":{\"x\":30}}}"));
    }

    /** Qwen3 writes {@code <tool_call>} as one added (non-special) token: the call constraint must allow it first. */
    @Test
    void qwenToolCallTokenIsAllowed() throws Exception {
        var tok = dev.cortado.tokenizer.Tokenizer.fromFile(Shared.require("models/tokenizers/qwen3/tokenizer.json"));
        int id = tok.encode("<tool_call>", false).ids()[0];
        assertEquals(1, tok.encode("<tool_call>", false).ids().length);
        ObjectNode body = (ObjectNode) goldens().get("cases").get(0).get("body").deepCopy();
        var c = ChatRequest.parse(body.put("tool_choice", "required")).tools().constraint(ToolCallSyntax.HERMES);
        var masks = c.masks(dev.cortado.generate.constraint.TokenVocabulary.of(tok));
        long[] m = masks.mask(masks.start(), true);
        assertTrue((m[id >>> 6] >>> (id & 63) & 1) != 0, "<tool_call> (id " + id + ") allowed first");
    }
}
