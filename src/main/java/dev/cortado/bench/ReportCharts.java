package dev.cortado.bench;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/** {@link Report}'s PNG bar charts (XChart, headless); kept apart so a runtime without java.desktop can still report. */
final class ReportCharts {
    private ReportCharts() {}

    static final Color[] PALETTE = {new Color(0x8B4513), new Color(0x1F77B4), new Color(0x2CA02C), new Color(0xD62728),
            new Color(0x9467BD), new Color(0xFF7F0E), new Color(0x17BECF)};

    /** One colour per engine across all charts (cortado always brown), others from the palette in order. */
    static Color[] colors(java.util.Collection<String> names) {
        List<String> known = List.of("cortado", "ort", "hf-eager", "hf-compile", "ort-python");
        Color[] out = new Color[Math.max(1, names.size())];
        int i = 0, extra = known.size();
        for (String n : names) {
            int k = known.indexOf(n);
            out[i++] = PALETTE[(k >= 0 ? k : extra++) % PALETTE.length];
        }
        return out;
    }

    static void png(Report.Chart c, Path file) throws IOException {
        System.setProperty("java.awt.headless", "true");
        CategoryChart ch = new CategoryChartBuilder().width(900).height(520).title(c.title())
                .xAxisTitle(c.xTitle()).yAxisTitle(c.yTitle()).build();
        var st = ch.getStyler();
        st.setLegendPosition(Styler.LegendPosition.OutsideE);
        st.setChartBackgroundColor(Color.WHITE);
        st.setPlotBackgroundColor(Color.WHITE);
        st.setSeriesColors(colors(c.series().keySet()));
        if (c.categories().stream().anyMatch(x -> x.length() > 14)) {
            st.setXAxisLabelRotation(20);
        }
        st.setLabelsVisible(true);
        st.setLabelsPosition(0.97);
        st.setLabelsFontColorAutomaticEnabled(true);
        st.setLabelsFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.BOLD, 12));
        ch.getStyler().setDecimalPattern("#,##0.#");
        ch.getStyler().setYAxisMin(0.0);
        for (var e : c.series().entrySet()) {
            List<Double> ys = new ArrayList<>();
            for (double y : e.getValue()) ys.add(Double.isNaN(y) ? 0.0 : y);
            ch.addSeries(e.getKey(), c.categories(), ys);
        }
        if (c.series().isEmpty()) ch.addSeries("(no data)", c.categories(), c.categories().stream().map(x -> 0.0).toList());
        String name = file.toString();
        BitmapEncoder.saveBitmap(ch, name.substring(0, name.length() - 4), BitmapEncoder.BitmapFormat.PNG);
    }
}
