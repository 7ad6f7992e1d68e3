using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Research.Benchmarks;
using Research.Torch;

// Roles. `ours CASE THREADS [quick]` measures one case in this (fresh) process and prints
// {"value","unit","peak_rss_mb","cpu_s","minor_faults"};
// `check CASE` prints our result of a case at a tiny size as {"values": [...]}.
// Without a role it drives: for each configuration, round and case it runs ours and then PyTorch (reference.py) as
// separate processes, alternating so both see the same machine load, and prints one JSON line per case and
// configuration (Statistics.Summarize). Counting cases (Cases.Counts, unit "nfe") are not timed and have no PyTorch
// side: they run once, in the driver, and print one line per sampler. `--check` instead runs `check` on both sides for
// the cases that have one (Cases.Checks) and prints the largest difference between the two results. `--record` appends
// the lines, with the commit, the date and an optional `--note TEXT` (say, that the machine was busy), to
// bench/history.jsonl; `--table` rewrites README's benchmark table from the
// latest run recorded there.
if (args.Length >= 1 && args[0] == "ours")
{
    int threads = int.Parse(args[2], CultureInfo.InvariantCulture);
    if (threads > 0) torch.set_num_threads(threads);
    var (value, unit) = Cases.All[args[1]](args.Length > 3 && args[3] == "quick");
    var (cpu, faults) = Statistics.ProcessCounts();
    Console.WriteLine(JsonSerializer.Serialize(new { value, unit, peak_rss_mb = Statistics.PeakRssMegabytes(), cpu_s = cpu, minor_faults = faults }));
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
bool check = false, quick = false, record = false, table = false;
string? note = null;
var python = Environment.GetEnvironmentVariable("BENCH_PYTHON") ?? "/usr/bin/python3";
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--rounds": rounds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--config": configs = [args[++i]]; break;
        case "--cases": cases = args[++i].Split(','); break;
        case "--check": check = true; break;
        case "--quick": quick = true; rounds = 1; break;
        case "--record": record = true; break;
        case "--table": table = true; break;
        case "--note": note = args[++i]; break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}
if (table) return History.WriteReadmeTable("bench/history.jsonl", "README.md");

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
// The C++ floor of the tiny cases (floor/tiny_floor.cpp, built by run.sh); absent, the tiny lines go without it.
var floor = Environment.GetEnvironmentVariable("BENCH_FLOOR");
if (floor is not null && !File.Exists(floor)) floor = null;

string Output(string file, IEnumerable<string> arguments, string? config = null)
{
    var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var a in arguments) info.ArgumentList.Add(a);
    if (config is not null)
    {
        foreach (var k in tunedEnvironment.Keys.Append("RESEARCH_TORCH_THREADS").Append("RESEARCH_TORCH_MALLOC")) info.Environment.Remove(k);
        if (config == "tuned")
            foreach (var (k, v) in tunedEnvironment) info.Environment[k] = v;
    }
    using var p = Process.Start(info)!;
    var stderrTask = p.StandardError.ReadToEndAsync();
    var stdout = p.StandardOutput.ReadToEnd();
    var stderr = stderrTask.Result;
    p.WaitForExit();
    if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed:\n{stderr}");
    return stdout;
}

JsonElement LastLine(string stdout) => JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;

Run Measure(string file, IEnumerable<string> arguments, string config)
{
    var json = LastLine(Output(file, arguments, config));
    return new(json.GetProperty("value").GetDouble(), json.GetProperty("unit").GetString()!, json.GetProperty("peak_rss_mb").GetDouble(),
        json.GetProperty("cpu_s").GetDouble(), json.GetProperty("minor_faults").GetDouble());
}

if (check)
{
    foreach (var c in cases.Where(Cases.Checks.ContainsKey))
    {
        double[] Values(string stdout) => LastLine(stdout).GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var mine = Values(Output(self, [dll, "check", c]));
        var theirs = Values(Output(python, [reference, "check", c]));
        if (mine.Length != theirs.Length) throw new InvalidOperationException($"{c}: {mine.Length} values against {theirs.Length}");
        var difference = mine.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
        var scale = mine.Max(Math.Abs);
        Console.WriteLine(JsonSerializer.Serialize(new { name = $"{c}/check", values = mine.Length, max_abs_diff = difference, max_abs_value = scale }));
    }
    return 0;
}

var lines = new List<JsonObject>();
void Emit(JsonObject line)
{
    Console.WriteLine(line.ToJsonString());
    lines.Add(line);
}

foreach (var c in cases.Where(Cases.Counts.ContainsKey))
    foreach (var count in Cases.Counts[c]())
        Emit(new JsonObject
        {
            ["name"] = count.Name,
            ["ours"] = count.Ours,
            ["reference"] = count.Reference,
            ["unit"] = count.Unit,
            ["ratio"] = count.Ours / count.Reference,
            ["detail"] = JsonSerializer.SerializeToNode(count.Detail),
        });
cases = cases.Where(Cases.All.ContainsKey).ToArray();

var started = Stopwatch.StartNew();
foreach (var config in configs)
{
    string threads = config == "tuned" ? cores.ToString(CultureInfo.InvariantCulture) : "0";
    var ours = cases.ToDictionary(c => c, _ => new List<Run>());
    var theirs = cases.ToDictionary(c => c, _ => new List<Run>());
    var extra = quick ? new[] { "quick" } : [];
    var floors = new Dictionary<string, List<double>>();
    for (int r = 0; r < rounds; r++)
    {
        if (floor is not null && cases.Any(c => c.StartsWith("tiny_", StringComparison.Ordinal)))
            foreach (var line in Output(floor, [threads, .. extra], config).Trim().Split('\n'))
            {
                var json = JsonDocument.Parse(line).RootElement;
                var name = json.GetProperty("name").GetString()!.Split('/')[0];
                (floors.TryGetValue(name, out var list) ? list : floors[name] = []).Add(json.GetProperty("value").GetDouble());
            }
        foreach (var c in cases)
        {
            var mine = Measure(self, [dll, "ours", c, threads, .. extra], config);
            var reference_ = Measure(python, [reference, c, threads, .. extra], config);
            ours[c].Add(mine);
            theirs[c].Add(reference_);
            Console.Error.WriteLine($"[{config} round {r + 1}/{rounds}] {c}: ours {mine.Value:G4} {mine.Unit}, pytorch {reference_.Value:G4} {reference_.Unit}");
        }
    }
    foreach (var c in cases)
    {
        var line = Statistics.Summarize($"{c}/{config}", ours[c], theirs[c]);
        if (floors.TryGetValue(c, out var floorRuns))
        {
            // libtorch called from C++: ours against it on the same statistic as the ratio's basis.
            var basis = line["basis"]!.GetValue<string>() == "best" ? floorRuns.Min() : Statistics.Median(floorRuns);
            line["cpp_floor"] = basis;
            line["ours_over_floor"] = line["ours"]!.GetValue<double>() / basis;
        }
        if (quick) line["quick"] = true;
        Emit(line);
    }
}
Console.Error.WriteLine($"benchmark took {started.Elapsed.TotalMinutes:F1} min");

if (record) History.Append("bench/history.jsonl", lines, cores, note);
return 0;
