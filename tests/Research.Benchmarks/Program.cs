using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Research.Benchmarks;
using Research.Torch;

// Roles. `ours CASE THREADS` measures one case in this (fresh) process and prints {"value","unit"};
// `check CASE` prints our result of a case at a tiny size as {"values": [...]}.
// Without arguments (or with --rounds/--config/--cases) it drives: for each configuration, round and
// case it runs ours and then PyTorch (reference.py) as separate processes, alternating so both see the
// same machine load, and prints one JSON line per case and configuration with the medians. Counting
// cases (Cases.Counts, unit "nfe") are not timed and have no PyTorch side: they run once, in the driver,
// and print one line per sampler. `--check` instead runs `check` on both sides for the cases that have one
// (Cases.Checks) and prints the largest difference between the two results.
if (args.Length >= 1 && args[0] == "ours")
{
    int threads = int.Parse(args[2], CultureInfo.InvariantCulture);
    if (threads > 0) torch.set_num_threads(threads);
    var (value, unit) = Cases.All[args[1]]();
    Console.WriteLine(JsonSerializer.Serialize(new { value, unit }));
    return 0;
}
if (args.Length >= 1 && args[0] == "check")
{
    Console.WriteLine(JsonSerializer.Serialize(new { values = Cases.Checks[args[1]]() }));
    return 0;
}

int rounds = 3;
var configs = new[] { "default", "tuned" };
var cases = Cases.All.Keys.Concat(Cases.Counts.Keys).ToArray();
var check = false;
var python = Environment.GetEnvironmentVariable("BENCH_PYTHON") ?? "/usr/bin/python3";
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--config": configs = [args[++i]]; break;
        case "--cases": cases = args[++i].Split(','); break;
        case "--check": check = true; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}

var unknown = cases.Where(c => !Cases.All.ContainsKey(c) && !Cases.Counts.ContainsKey(c)).ToArray();
if (unknown.Length > 0)
{
    Console.Error.WriteLine($"unknown cases: {string.Join(", ", unknown)}");
    return 2;
}

// "default": each side as a user gets it. "tuned": the same allocator, OpenMP and thread settings on
// both sides (DESIGN.md's performance facts), so the ratio measures the binding, not the settings.
var tunedEnvironment = new Dictionary<string, string>
{
    ["MALLOC_MMAP_MAX_"] = "0",
    ["MALLOC_TRIM_THRESHOLD_"] = "17179869184",
    ["OMP_WAIT_POLICY"] = "PASSIVE",
};
int cores = Environment.ProcessorCount;
var self = Environment.ProcessPath!;
var dll = typeof(Cases).Assembly.Location;
var reference = Path.Combine(AppContext.BaseDirectory, "reference.py");

(double value, string unit) Run(string file, IEnumerable<string> arguments, string config)
{
    var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var a in arguments) info.ArgumentList.Add(a);
    foreach (var k in tunedEnvironment.Keys.Append("RESEARCH_TORCH_THREADS").Append("RESEARCH_TORCH_MALLOC")) info.Environment.Remove(k);
    if (config == "tuned")
        foreach (var (k, v) in tunedEnvironment) info.Environment[k] = v;
    using var p = Process.Start(info)!;
    var stdout = p.StandardOutput.ReadToEnd();
    var stderr = p.StandardError.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed:\n{stderr}");
    var json = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
    return (json.GetProperty("value").GetDouble(), json.GetProperty("unit").GetString()!);
}

static double Median(List<double> xs)
{
    var s = xs.OrderBy(x => x).ToList();
    return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
}

double[] Values(string json) =>
    JsonDocument.Parse(json.Trim().Split('\n')[^1]).RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();

string Output(string file, IEnumerable<string> arguments)
{
    var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var a in arguments) info.ArgumentList.Add(a);
    using var p = Process.Start(info)!;
    var stdout = p.StandardOutput.ReadToEnd();
    var stderr = p.StandardError.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed:\n{stderr}");
    return stdout;
}

if (check)
{
    foreach (var c in cases.Where(Cases.Checks.ContainsKey))
    {
        var mine = Values(Output(self, [dll, "check", c]));
        var theirs = Values(Output(python, [reference, "check", c]));
        if (mine.Length != theirs.Length) throw new InvalidOperationException($"{c}: {mine.Length} values against {theirs.Length}");
        var difference = mine.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
        var scale = mine.Max(Math.Abs);
        Console.WriteLine(JsonSerializer.Serialize(new { name = $"{c}/check", values = mine.Length, max_abs_diff = difference, max_abs_value = scale }));
    }
    return 0;
}

foreach (var c in cases.Where(Cases.Counts.ContainsKey))
    foreach (var count in Cases.Counts[c]())
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            name = count.Name,
            ours = count.Ours,
            reference = count.Reference,
            unit = count.Unit,
            ratio = count.Ours / count.Reference,
            detail = count.Detail,
        }));
cases = cases.Where(Cases.All.ContainsKey).ToArray();

foreach (var config in configs)
{
    string threads = config == "tuned" ? cores.ToString(CultureInfo.InvariantCulture) : "0";
    var ours = cases.ToDictionary(c => c, _ => new List<double>());
    var theirs = cases.ToDictionary(c => c, _ => new List<double>());
    var units = new Dictionary<string, string>();
    for (int r = 0; r < rounds; r++)
        foreach (var c in cases)
        {
            var (mine, unit) = Run(self, [dll, "ours", c, threads], config);
            var (reference_, _) = Run(python, [reference, c, threads], config);
            ours[c].Add(mine);
            theirs[c].Add(reference_);
            units[c] = unit;
            Console.Error.WriteLine($"[{config} round {r + 1}/{rounds}] {c}: ours {mine:G4} {unit}, pytorch {reference_:G4} {unit}");
        }
    foreach (var c in cases)
    {
        double o = Median(ours[c]), t = Median(theirs[c]);
        Console.WriteLine(JsonSerializer.Serialize(new
        {
            name = $"{c}/{config}",
            ours = o,
            reference = t,
            unit = units[c],
            ratio = o / t,
            rounds,
            ours_runs = ours[c],
            reference_runs = theirs[c],
        }));
    }
}
return 0;
