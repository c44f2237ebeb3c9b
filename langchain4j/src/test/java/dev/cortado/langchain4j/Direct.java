package dev.cortado.langchain4j;

import dev.cortado.engine.Completion;
import dev.cortado.engine.Request;
import dev.cortado.generate.FinishReason;
import dev.cortado.generate.GenerationConfig;
import dev.cortado.runtime.Cortado;
import dev.cortado.tokenizer.Tokenizer;
import dev.cortado.tokenizer.TokenizerConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The reference for the chat adapters: Cortado used directly, as a Java caller would without LangChain4j: the
 * folder's chat template rendered over OpenAI-style message maps ({@link TokenizerConfig#applyChatTemplate}, checked
 * against Python Jinja2 in the core's ChatToolsPromptTest), tokenized without added special tokens (as transformers'
 * {@code apply_chat_template(tokenize=True)}) and generated on the {@link Cortado} facade's serving engine.
 */
final class Direct implements AutoCloseable {
    final Path dir;
    final Cortado rt;
    final TokenizerConfig template;
    final Tokenizer tokenizer;

    Direct(Path dir) {
        this.dir = dir;
        this.rt = Cortado.open(dir);
        this.template = TokenizerConfig.load(dir.resolve("tokenizer_config.json"));
        this.tokenizer = Tokenizer.fromFile(dir.resolve("tokenizer.json"));
    }

    int[] prompt(List<Map<String, Object>> messages, Map<String, Object> extra) {
        return tokenizer.encode(template.applyChatTemplate(messages, true, extra), false).ids();
    }

    Completion chat(List<Map<String, Object>> messages, Map<String, Object> extra, GenerationConfig config) {
        return rt.engine().submit(Request.ofIds(prompt(messages, extra), config)).join();
    }

    Completion chat(List<Map<String, Object>> messages, GenerationConfig config) {
        return chat(messages, null, config);
    }

    /** The model's generation_config.json, greedy, at most {@code max} new tokens. */
    GenerationConfig greedy(int max) {
        return rt.generationConfig().doSample(false).maxNewTokens(max);
    }

    static Map<String, Object> msg(String role, String content) {
        return Map.of("role", role, "content", content);
    }

    static dev.langchain4j.model.output.FinishReason finish(Completion c) {
        return c.results().getFirst().finishReason() == FinishReason.LENGTH ? dev.langchain4j.model.output.FinishReason.LENGTH
                : dev.langchain4j.model.output.FinishReason.STOP;
    }

    @Override
    public void close() {
        rt.close();
    }
}
