package dev.cortado.langchain4j;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cortado.CortadoException;
import dev.langchain4j.data.message.ImageContent;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ToolChoice;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;

/** Bad input to the chat models: one {@link CortadoException} line naming the problem and the fix. */
class ChatModelErrorsTest {
    @TempDir static Path tmp;
    static Path dir;
    static CortadoChatModel model;

    @BeforeAll
    static void open() throws Exception {
        dir = Fixtures.chatModel(tmp);
        model = CortadoChatModel.builder().modelPath(dir).build();
    }

    @AfterAll
    static void close() {
        if (model != null) model.close();
    }

    static void fails(String expected, Executable e) {
        CortadoException x = assertThrows(CortadoException.class, e);
        assertTrue(x.getMessage().contains(expected), "'" + expected + "' not in: " + x.getMessage());
        assertTrue(!x.getMessage().contains("\n"), "one line: " + x.getMessage());
    }

    static ChatRequest.Builder hi() {
        return ChatRequest.builder().messages(UserMessage.from("Hi"));
    }

    @Test
    void nonsenseKnobs() {
        // on the builder: refused before the model is loaded
        fails("'temperature' = 5.0 is out of range; it must be between 0 and 2",
                () -> CortadoChatModel.builder().modelPath(dir).temperature(5.0).build());
        fails("'top_k' = -3 is out of range", () -> CortadoStreamingChatModel.builder().modelPath(dir).topK(-3).build());
        fails("max_tokens = 0 asks for no tokens", () -> CortadoChatModel.builder().modelPath(dir).maxTokens(0).build());
        fails("memory size 'lots' is not a positive size", () -> CortadoChatModel.builder().modelPath(dir).kvMemory("lots"));
        // per request
        fails("top_p = 0 keeps no token", () -> model.chat(hi().topP(0.0).build()));
        fails("'frequency_penalty' = 9.0 is out of range", () -> model.chat(hi().frequencyPenalty(9.0).build()));
        fails("'min_p' = 2.0 is out of range", () -> model.chat(hi().parameters(
                CortadoChatRequestParameters.builder().minP(2.0).build()).build()));
        fails("exceed the model's context of 512 tokens; set max_tokens ≤", () -> model.chat(hi().maxOutputTokens(5000).build()));
        fails("'stop' must not contain an empty string", () -> model.chat(hi().stopSequences(java.util.List.of("")).build()));
        fails("'tool_choice' \"required\" needs 'tools'", () -> model.chat(hi().toolChoice(ToolChoice.REQUIRED).build()));
        fails("modelName 'gpt-4' is not the loaded model 'stories-chat'", () -> model.chat(hi().modelName("gpt-4").build()));
    }

    @Test
    void badMessages() {
        fails("Cortado's chat models read text only", () -> model.chat(UserMessage.from(TextContent.from("Look:"),
                ImageContent.from("https://example.com/cat.png"))));
        fails("the prompt has", () -> model.chat(hi().messages(UserMessage.from("Once upon a time ".repeat(200))).build()));
    }

    @Test
    void badModels() throws Exception {
        fails("modelPath is not set", () -> CortadoChatModel.builder().build());
        fails("model not found: ", () -> CortadoChatModel.builder().modelPath("no/such/model").build());
        // a folder without a chat template: refused at the first chat, naming the way out
        try (CortadoChatModel plain = CortadoChatModel.builder().modelPath(Fixtures.stories()).build()) {
            fails("has no chat_template in its tokenizer_config.json", () -> plain.chat("Hi"));
        }
        fails("is a seq2seq (encoder-decoder) model, not a chat (decoder-only) model",
                () -> CortadoChatModel.builder().modelPath(Path.of("models/cortado-en-de")).build());
        if (!dev.cortado.backend.cuda.CudaDriver.isAvailable()) // here: no GPU; the CUDA path says what it needs
            fails("CUDA", () -> CortadoChatModel.builder().modelPath(dir).device(dev.cortado.device.Device.cuda(0)).build());
        CortadoChatModel closed = CortadoChatModel.builder().modelPath(dir).build();
        closed.close();
        fails("is closed", () -> closed.chat("Hi"));
    }
}
