/// Every experiment the runner knows, in the order `all` runs them.
module Research.Experiments.Registry

open System

let all: Experiment list =
    [ Fig01SdSchedule.experiment
      Fig02PfQuantiles.experiment
      Fig03NormalMle.experiment
      Fig07KlTraining.experiment
      Fig09GanDiscriminator.experiment
      Fig10ModeSeeking.experiment
      Fig13ProcessTable.experiment
      Fig14Langevin.experiment
      Sde02FokkerPlanck.experiment
      Sde05ReverseSde.experiment
      SamplerConvergence.experiment
      FashionDiffusion.experiment
      Fig12DdpmStrip.experiment
      SamplerQuality.experiment
      CfgSweep.experiment
      ProcessComparison.experiment
      Fig04Autoencoders.experiment
      GanRing.experiment
      DcganFashion.experiment
      Fig11RealNvp.experiment
      Fig15EnergyModel.experiment
      Fig05Summary.experiment
      Fig06Taxonomy.experiment
      Fig08ComputationGraphs.experiment ]

/// The default set: what `all` (or no name) runs.
let defaults = all |> List.filter (fun e -> e.InDefault)

/// Finds experiments by full name, by name prefix ("fig01") or by catalogue id ("FIG-01").
let find (query: string) : Experiment list =
    let q = query.Trim()
    match all |> List.tryFind (fun e -> String.Equals(e.Name, q, StringComparison.OrdinalIgnoreCase)) with
    | Some e -> [ e ]
    | None ->
        let byId = all |> List.filter (fun e -> e.Ids |> List.exists (fun i -> String.Equals(i, q, StringComparison.OrdinalIgnoreCase)))
        if not byId.IsEmpty then byId
        else all |> List.filter (fun e -> e.Name.StartsWith(q, StringComparison.OrdinalIgnoreCase))
