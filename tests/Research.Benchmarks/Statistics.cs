using System.Text.Json.Nodes;

namespace Research.Benchmarks;

/// <summary>
/// One process's measurement of one case: its value and unit, its peak resident memory, and (from /proc/self/stat at
/// exit, start-up included) its CPU seconds and minor page faults: counts that a busy machine disturbs far less than
/// wall-clock time.
/// </summary>
public sealed record Run(double Value, string Unit, double PeakRssMegabytes, double CpuSeconds, double MinorFaults);

/// <summary>
/// How the driver turns the runs of both sides into one line. Each side gets two statistics over its runs: the
/// median and the best (the minimum of a time, the maximum of a rate such as images/s). The host takes cores away at
/// random, which only ever slows a run down, so the best is often the steadier of the two, but not always (a lucky
/// outlier); the driver therefore estimates the spread of each statistic by bootstrap (its relative standard
/// deviation over resamples of the runs) and bases the ratio on the statistic whose ratio has the smaller spread.
/// </summary>
public static class Statistics
{
    /// <summary>Rates (unit ".../s") are better when higher; times are better when lower.</summary>
    public static bool HigherIsBetter(string unit) => unit.EndsWith("/s", StringComparison.Ordinal);

    public static double Median(IReadOnlyList<double> xs)
    {
        var s = xs.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    public static double Best(IReadOnlyList<double> xs, string unit) => HigherIsBetter(unit) ? xs.Max() : xs.Min();

    /// <summary>
    /// Relative standard deviation of <paramref name="statistic"/> over bootstrap resamples of <paramref name="xs"/>:
    /// every one of the n^n resamples for n &lt;= 6 (exact), else 4096 seeded draws. 0 for a single run.
    /// </summary>
    public static double BootstrapSpread(IReadOnlyList<double> xs, Func<IReadOnlyList<double>, double> statistic)
    {
        int n = xs.Count;
        if (n < 2) return 0.0;
        var values = new List<double>();
        var sample = new double[n];
        if (n <= 6)
        {
            var index = new int[n];
            while (true)
            {
                for (int i = 0; i < n; i++) sample[i] = xs[index[i]];
                values.Add(statistic(sample));
                int k = 0;
                while (k < n && ++index[k] == n) index[k++] = 0;
                if (k == n) break;
            }
        }
        else
        {
            var random = new Random(12345);
            for (int b = 0; b < 4096; b++)
            {
                for (int i = 0; i < n; i++) sample[i] = xs[random.Next(n)];
                values.Add(statistic(sample));
            }
        }
        double mean = values.Average();
        double variance = values.Sum(v => (v - mean) * (v - mean)) / values.Count;
        return Math.Sqrt(variance) / Math.Abs(statistic(xs));
    }

    /// <summary>
    /// The driver's line for one case and configuration. ratio is ours against the reference in time (ours / reference
    /// for times, reference / ours for rates), so below 1 means ours is faster either way; `basis` says which statistic
    /// it uses ("median" or "best", the one with the smaller bootstrap spread of the ratio, the median on a tie).
    /// Peak resident memory is the largest over each side's runs.
    /// </summary>
    public static JsonObject Summarize(string name, IReadOnlyList<Run> ours, IReadOnlyList<Run> reference)
    {
        var unit = ours[0].Unit;
        bool higher = HigherIsBetter(unit);
        double[] o = ours.Select(r => r.Value).ToArray(), t = reference.Select(r => r.Value).ToArray();
        double Ratio(double mine, double theirs) => higher ? theirs / mine : mine / theirs;
        double Combined(Func<IReadOnlyList<double>, double> statistic) =>
            Math.Sqrt(Math.Pow(BootstrapSpread(o, statistic), 2) + Math.Pow(BootstrapSpread(t, statistic), 2));
        Func<IReadOnlyList<double>, double> median = Median, best = xs => Best(xs, unit);
        double spreadMedian = Combined(median), spreadBest = Combined(best);
        bool useBest = spreadBest < spreadMedian;
        var basis = useBest ? best : median;
        return new JsonObject
        {
            ["name"] = name,
            ["ours"] = basis(o),
            ["reference"] = basis(t),
            ["unit"] = unit,
            ["ratio"] = Ratio(basis(o), basis(t)),
            ["basis"] = useBest ? "best" : "median",
            ["ours_median"] = Median(o),
            ["ours_best"] = Best(o, unit),
            ["reference_median"] = Median(t),
            ["reference_best"] = Best(t, unit),
            ["ratio_median"] = Ratio(Median(o), Median(t)),
            ["ratio_best"] = Ratio(Best(o, unit), Best(t, unit)),
            ["spread_median"] = spreadMedian,
            ["spread_best"] = spreadBest,
            ["ours_peak_rss_mb"] = ours.Max(r => r.PeakRssMegabytes),
            ["reference_peak_rss_mb"] = reference.Max(r => r.PeakRssMegabytes),
            ["ours_cpu_s"] = Median(ours.Select(r => r.CpuSeconds).ToArray()),
            ["reference_cpu_s"] = Median(reference.Select(r => r.CpuSeconds).ToArray()),
            ["ours_minor_faults"] = Median(ours.Select(r => r.MinorFaults).ToArray()),
            ["reference_minor_faults"] = Median(reference.Select(r => r.MinorFaults).ToArray()),
            ["rounds"] = ours.Count,
            ["ours_runs"] = new JsonArray(o.Select(v => JsonValue.Create(v)).ToArray<JsonNode?>()),
            ["reference_runs"] = new JsonArray(t.Select(v => JsonValue.Create(v)).ToArray<JsonNode?>()),
        };
    }

    /// <summary>
    /// (CPU seconds, minor page faults) of this process so far, from /proc/self/stat (utime + stime at 100 ticks a
    /// second, minflt); reference.py reads the same fields.
    /// </summary>
    public static (double cpuSeconds, double minorFaults) ProcessCounts()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');   // fields from the 3rd on (state)
        double F(int field) => double.Parse(fields[field - 3], System.Globalization.CultureInfo.InvariantCulture);
        return ((F(14) + F(15)) / 100.0, F(10));
    }

    /// <summary>This process's peak resident set (VmHWM of /proc/self/status) in MiB; NaN where there is no /proc.</summary>
    public static double PeakRssMegabytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException) { }
        return double.NaN;
    }
}
