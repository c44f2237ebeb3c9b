package dev.cortado;

import com.fasterxml.jackson.core.JacksonException;
import java.nio.file.Path;

/** One-line messages for JSON files Cortado reads (config.json, generation_config.json, ...). */
public final class JsonErrors {
    private JsonErrors() {}

    /** One line for a JSON syntax error: "{file}: not valid JSON at line L, column C: {what}". */
    public static String syntax(Path file, JacksonException e) {
        var loc = e.getLocation();
        String where = loc == null || loc.getLineNr() < 0 ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
        String what = String.valueOf(e.getOriginalMessage()).replaceAll("\\s+", " ").strip();
        if (what.length() > 200) what = what.substring(0, 200) + "…";
        return file + ": not valid JSON" + where + ": " + what;
    }
}
