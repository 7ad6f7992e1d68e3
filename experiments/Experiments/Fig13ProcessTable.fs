/// FIG-13 (S1 L179–L185) with PROC-06 and PROC-03: the VE / VP / sub-VP / RF table regenerated from
/// the Research.Diffusion process objects, each row verified against the table's own formulas;
/// alpha and sigma against varsigma; lambda(t) = log SNR for the F6 schedules, each monotone.
module Research.Experiments.Fig13ProcessTable

open System
open Research.Diffusion
open Research.Experiments.Numerics
open Research.Experiments.Figures

/// One row of S1's table: the process object and the table's independent closed forms.
type Row =
    { Name: string
      Process: NoiseProcess
      Sde: string
      Relation: string
      AlphaOfVarsigmaText: string
      SigmaOfVarsigmaText: string
      /// f(t) and g(t)^2 as the table writes them (independent of the object's derivation).
      TableF: float -> float
      TableG2: float -> float
      /// The alpha-sigma relation's residual at t.
      RelationResidual: float -> float
      AlphaOfVarsigma: float -> float
      SigmaOfVarsigma: float -> float
      TMax: float }

let rows () =
    let vp = VpLinear(0.1, 20.0)
    let bMin, bMax = vp.BetaMin, vp.BetaMax
    let beta t = bMin + t * (bMax - bMin)
    let bigB t = bMin * t + 0.5 * (bMax - bMin) * t * t
    let ve = VeGeometric(0.01, 50.0)
    let logR = log (ve.SigmaMax / ve.SigmaMin)
    [ { Name = "VE (VE-geo)"
        Process = ve
        Sde = "dx = g dw, g² = (σ²)'"
        Relation = "α = 1"
        AlphaOfVarsigmaText = "1"
        SigmaOfVarsigmaText = "ς"
        TableF = fun _ -> 0.0
        TableG2 = fun t -> 2.0 * ve.SigmaMin * ve.SigmaMin * logR * exp (2.0 * t * logR)
        RelationResidual = fun t -> abs (ve.Alpha t - 1.0)
        AlphaOfVarsigma = fun _ -> 1.0
        SigmaOfVarsigma = id
        TMax = 0.99 }
      { Name = "VP (VP-lin)"
        Process = vp
        Sde = "dx = −½β x dt + √β dw"
        Relation = "σ² = 1 − α²"
        AlphaOfVarsigmaText = "1/√(1+ς²)"
        SigmaOfVarsigmaText = "ς/√(1+ς²)"
        TableF = fun t -> -0.5 * beta t
        TableG2 = beta
        RelationResidual = fun t -> let a, s = vp.Alpha t, vp.Sigma t in abs (s * s - (1.0 - a * a))
        AlphaOfVarsigma = fun v -> 1.0 / sqrt (1.0 + v * v)
        SigmaOfVarsigma = fun v -> v / sqrt (1.0 + v * v)
        TMax = 0.99 }
      { Name = "sub-VP"
        Process = SubVp(vp)
        Sde = "dx = −½β x dt + √(β(1 − e^{−2B})) dw"
        Relation = "σ = 1 − α²"
        AlphaOfVarsigmaText = "½(−ς + √(ς²+4))"
        SigmaOfVarsigmaText = "ς α"
        TableF = fun t -> -0.5 * beta t
        TableG2 = fun t -> beta t * (1.0 - exp (-2.0 * bigB t))
        RelationResidual = fun t -> let sv = SubVp(vp) in abs (sv.Sigma t - (1.0 - sv.Alpha t ** 2.0))
        // ½(−ς + √(ς²+4)) evaluated as 2/(ς + √(ς²+4)), which does not cancel at large ς.
        AlphaOfVarsigma = fun v -> 2.0 / (v + sqrt (v * v + 4.0))
        SigmaOfVarsigma = fun v -> v * 2.0 / (v + sqrt (v * v + 4.0))
        TMax = 0.99 }
      { Name = "RF"
        Process = RectifiedFlow()
        Sde = "dx = −½β x dt + √(β(1 − e^{−B/2})) dw"
        Relation = "α + σ = 1"
        AlphaOfVarsigmaText = "1/(1+ς)"
        SigmaOfVarsigmaText = "ς/(1+ς)"
        // alpha = 1 - t: beta = -2 alpha'/alpha = 2/(1 - t), B = -2 log(1 - t).
        TableF = fun t -> -1.0 / (1.0 - t)
        TableG2 = fun t -> let b, bb = 2.0 / (1.0 - t), -2.0 * log (1.0 - t) in b * (1.0 - exp (-bb / 2.0))
        RelationResidual = fun t -> let rf = RectifiedFlow() in abs (rf.Alpha t + rf.Sigma t - 1.0)
        AlphaOfVarsigma = fun v -> 1.0 / (1.0 + v)
        SigmaOfVarsigma = fun v -> v / (1.0 + v)
        TMax = 0.98 } ]

let private relErr (a: float) (b: float) = abs (a - b) / max 1.0 (max (abs a) (abs b))

let run (ctx: Context) =
    let n = ctx.Int("grid", 2000, 10000)
    let table = rows ()
    let results =
        [ for r in table ->
              let ts = linspace 0.01 r.TMax n
              let p = r.Process
              let gErr = ts |> Array.map (fun t -> relErr (p.DiffusionSquared t) (r.TableG2 t)) |> Array.max
              let fErr = ts |> Array.map (fun t -> relErr (p.Drift t) (r.TableF t)) |> Array.max
              let relRes = ts |> Array.map r.RelationResidual |> Array.max
              let aErr = ts |> Array.map (fun t -> abs (r.AlphaOfVarsigma (p.Varsigma t) - p.Alpha t)) |> Array.max
              let sErr = ts |> Array.map (fun t -> abs (r.SigmaOfVarsigma (p.Varsigma t) - p.Sigma t)) |> Array.max
              let invErr = ts |> Array.map (fun t -> abs (p.TimeAtVarsigma(p.Varsigma t) - t)) |> Array.max
              // PROC-01 quadrature with the table's f and g^2 reproduces alpha and sigma^2 (PROC-06 check 2).
              let sde = LinearSde(Func<float, float> r.TableF, Func<float, float> r.TableG2)
              let quadErr =
                  [ 0.25; 0.5; 0.75 ]
                  |> List.map (fun t ->
                      let struct (alpha, s2) = sde.ConditionalLaw(t)
                      max (relErr alpha (p.Alpha t)) (relErr s2 (p.Sigma t ** 2.0)))
                  |> List.max
              r, gErr, fErr, relRes, aErr, sErr, invErr, quadErr ]
    let fmt (x: float) = x.ToString("0.0e+0", Globalization.CultureInfo.InvariantCulture)
    let verification (_, gErr, fErr, relRes, aErr, sErr, _, quadErr) =
        let worst = List.max [ gErr; fErr; relRes; aErr; sErr ]
        let ok = worst <= 1e-10 && quadErr <= 1e-9
        $"""{(if ok then "✓" else "✗")} g²,f {fmt (max gErr fErr)}; relation {fmt relRes}; α(ς),σ(ς) {fmt (max aErr sErr)}; PROC-01 quad {fmt quadErr}"""
    for (r, gErr, fErr, relRes, aErr, sErr, invErr, quadErr) in results do
        let key = r.Name.Split(' ').[0].ToLowerInvariant().Replace("-", "_")
        ctx.Record($"{key}_g2_max_rel_err", gErr)
        ctx.Record($"{key}_f_max_rel_err", fErr)
        ctx.Record($"{key}_relation_max_residual", relRes)
        ctx.Record($"{key}_alpha_of_varsigma_max_err", aErr)
        ctx.Record($"{key}_sigma_of_varsigma_max_err", sErr)
        ctx.Record($"{key}_time_at_varsigma_max_err", invErr)
        ctx.Record($"{key}_proc01_quadrature_max_rel_err", quadErr)
    ctx.Record(
        "table_max_err",
        results |> List.map (fun (_, g, f, rr, a, s, _, _) -> List.max [ g; f; rr; a; s ]) |> List.max
    )
    let header = [ "process"; "SDE"; "relation"; "α(ς)"; "σ(ς)"; "verification (max over t ∈ [0.01, 0.99])" ]
    let cells =
        [ for (r, _, _, _, _, _, _, _) as res in results ->
              [ r.Name; r.Sde; r.Relation; r.AlphaOfVarsigmaText; r.SigmaOfVarsigmaText; verification res ] ]
    ctx.WriteTextCsv("process_table.csv", header, cells)
    let md =
        let line (cs: string list) = "| " + String.Join(" | ", cs) + " |"
        String.Join(
            "\n",
            [ line header; line (header |> List.map (fun _ -> "---")) ] @ (cells |> List.map line)
        )
        + "\n"
    ctx.WriteText("process_table.md", md)

    // alpha and sigma against varsigma, from the process objects (a parametric plot over t).
    let colors = [| "#1b9e77"; "#d95f02"; "#7570b3"; "#e7298a"; "#66a61e"; "#e6ab02"; "#a6761d" |]
    let ts = linspace 1e-4 0.995 600
    let asPanel =
        Panel.create
            "α (solid) and σ (dashed) against ς = σ/α"
            "ς"
            "α, σ"
            [ for i, (r, _, _, _, _, _, _, _) in List.indexed results do
                  let p = r.Process
                  let vs = ts |> Array.map p.Varsigma
                  yield Trace.line $"α, {r.Name}" vs (ts |> Array.map p.Alpha) |> Trace.color colors.[i] |> Trace.legendGroup r.Name
                  yield
                      Trace.line $"σ, {r.Name}" vs (ts |> Array.map p.Sigma)
                      |> Trace.color colors.[i]
                      |> Trace.dash "dash"
                      |> Trace.legendGroup r.Name
                      |> Trace.hideLegend ]
        |> Panel.logX
        |> Panel.xRange -2.0 2.0
        |> Panel.yRange 0.0 1.3
    // lambda(t) for every F6 schedule; EDM is drawn against t / TMax.
    let f6: NoiseProcess list =
        [ VpLinear(); VpCosine(); VpScaledLinear(); SubVp(); VeGeometric(); RectifiedFlow(); Edm() ]
    let grid = linspace 1e-4 (1.0 - 1e-4) n
    let monotone =
        [ for p in f6 ->
              let lam = grid |> Array.map (fun u -> p.LogSnr(u * p.TMax))
              let rise = lam |> Array.pairwise |> Array.map (fun (a, b) -> b - a) |> Array.max
              p, lam, rise ]
    for (p, _, rise) in monotone do
        ctx.Record($"lambda_max_increment_{p.Name.Split(' ').[0]}", rise)
    ctx.Record("lambda_all_monotone", monotone |> List.forall (fun (_, _, rise) -> rise <= 1e-12))
    let lamPanel =
        Panel.create
            "λ(t) = log SNR for the F6 schedules (all non-increasing)"
            "t / T_max"
            "λ"
            [ for i, (p, lam, _) in List.indexed monotone -> Trace.line p.Name grid lam |> Trace.color colors.[i % colors.Length] ]
        |> Panel.yRange -25.0 25.0
    ctx.WriteCsv(
        "log_snr.csv",
        "t_over_tmax" :: (monotone |> List.map (fun (p, _, _) -> p.Name)),
        grid |> Seq.mapi (fun j u -> u :: (monotone |> List.map (fun (_, lam, _) -> lam.[j])))
    )
    // The table takes the whole first row; the two plots share the second.
    let tablePanel =
        Panel.create "" "" "" [ Trace.table header (List.transpose cells) |> Trace.set "columnwidth" [| 1.0; 2.3; 1.1; 1.4; 0.9; 3.2 |] ]
        |> Panel.domain 0.0 1.0 0.64 1.0
    let fig =
        Figure.grid "FIG-13 · VE / VP / sub-VP / RF regenerated from the process objects (PROC-06, PROC-03)" 2 [
            tablePanel
            asPanel |> Panel.domain 0.0 0.4 0.0 0.52
            lamPanel |> Panel.domain 0.55 0.95 0.0 0.52 ]
        |> Figure.size 1250 900
    ctx.SaveFigure("fig13_process_table", fig)

let experiment =
    { Name = "fig13-process-table"
      Ids = [ "FIG-13"; "PROC-06"; "PROC-03" ]
      Title = "VE / VP / sub-VP / RF table from the process objects, verified; alpha, sigma vs varsigma; lambda(t)"
      InDefault = true
      Run = run }
