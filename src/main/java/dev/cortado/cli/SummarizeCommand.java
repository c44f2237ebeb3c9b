package dev.cortado.cli;

import picocli.CommandLine.Command;

/** {@code cortado summarize}: English summaries with Cortado's own model by default. */
@Command(name = "summarize", mixinStandardHelpOptions = true,
        description = "Summarize text (default: Cortado's own EN summarizer, models/cortado-summarize-en).")
public final class SummarizeCommand extends Seq2SeqCommand {
    @Override String defaultModel() { return "cortado-summarize-en"; }
    @Override String what() { return "summarization"; }
}
