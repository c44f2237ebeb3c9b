package dev.cortado.cli;

import dev.cortado.CortadoException;
import dev.cortado.tokenizer.Tokenizer;
import dev.cortado.tokenizer.TokenizerCommands;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** tokenize / detokenize / chat-template over Hugging Face tokenizer files. */
final class TokenizerCli {
    private TokenizerCli() {}

    @Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Print {\"ids\",\"tokens\"} for TEXT.")
    static final class Tokenize implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Option(names = "--tokenizer", required = true, description = "a Hugging Face tokenizer.json") Path tokenizer;
        @Option(names = "--no-special", description = "do not add special tokens") boolean noSpecial;
        @Parameters(paramLabel = "TEXT", description = "text to tokenize") String text;

        @Override public Integer call() {
            spec.commandLine().getOut().println(TokenizerCommands.tokenizeJson(tokenizer, text, !noSpecial));
            return 0;
        }
    }

    @Command(name = "detokenize", mixinStandardHelpOptions = true, description = "Decode token IDS to text.")
    static final class Detokenize implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Option(names = "--tokenizer", required = true, description = "a Hugging Face tokenizer.json") Path tokenizer;
        @Parameters(paramLabel = "IDS", arity = "1..*", description = "token ids (separate arguments, commas allowed)") List<String> ids;

        @Override public Integer call() {
            List<String> parts = ids.stream().flatMap(x -> java.util.Arrays.stream(x.split("[,\\s\\[\\]]+"))).filter(x -> !x.isEmpty()).toList();
            if (parts.isEmpty()) throw new CortadoException("no token ids in " + ids);
            int[] a = new int[parts.size()];
            for (int i = 0; i < a.length; i++) {
                try {
                    a[i] = Integer.parseInt(parts.get(i));
                } catch (NumberFormatException e) {
                    throw new CortadoException("not a token id: '" + parts.get(i) + "' (ids are integers ≥ 0)");
                }
            }
            Tokenizer tok = Tokenizer.fromFile(tokenizer);
            for (int id : a) {
                if (tok.idToToken(id) == null) {
                    throw new CortadoException("token id " + id + " is not in the vocabulary of " + tokenizer + " (" + tok.vocabSize()
                            + " tokens" + (id < 0 ? "; ids are ≥ 0" : "") + ")");
                }
            }
            spec.commandLine().getOut().println(tok.decode(a, false));
            return 0;
        }
    }

    @Command(name = "chat-template", mixinStandardHelpOptions = true, description = "Render a chat template.")
    static final class ChatTemplate implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Option(names = "--tokenizer-config", required = true, description = "tokenizer_config.json holding the chat_template") Path config;
        @Option(names = "--messages", required = true, description = "JSON list of {role, content}") Path messages;

        @Override public Integer call() {
            spec.commandLine().getOut().print(TokenizerCommands.chatTemplate(config, messages));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
