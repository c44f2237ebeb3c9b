package dev.cortado.cli;

import picocli.CommandLine.Command;

/** {@code cortado translate}: EN→DE with Cortado's own model by default. */
@Command(name = "translate", mixinStandardHelpOptions = true,
        description = "Translate text (default: Cortado's own EN→DE model, models/cortado-en-de).")
public final class TranslateCommand extends Seq2SeqCommand {
    @Override String defaultModel() { return "cortado-en-de"; }
    @Override String what() { return "translation"; }
}
