/// FIG-06 (S2 Table 1.1): the explicit / implicit taxonomy, generated from the GenerativeFamily metadata of the
/// toolkit's model classes, each cell with the property test that backs it, and the table's two nuances (energy
/// models are explicit but unnormalised; diffusion models also have an exact PF-ODE likelihood).
module Research.Experiments.Fig06Taxonomy

open System
open Research.Models
open Research.Experiments.Figures

/// The columns of S2's table, the rows' wording for each, and the tests that back each column's claim.
let private columns =
    [ LikelihoodKind.ExplicitExact,
      "explicit, exact likelihood",
      "tractable",
      "tests: TaxonomyTests.Exact_likelihood_models_integrate_to_1; ImageFlowTests.Log_det_of_the_image_flow_equals_log_abs_det_of_the_autograd_Jacobian; FlowTests (NF-01..03)"
      LikelihoodKind.ExplicitBound,
      "explicit, approximate likelihood",
      "bound or approximation",
      "tests: TaxonomyTests.Bound_models_have_an_ELBO_below_log_p; VaeTests.ELBO_below_IWAE_k_non_decreasing_in_k_below_log_p_by_quadrature; proof DDPM-04 (log p − ELBO = KL ≥ 0)"
      LikelihoodKind.Implicit,
      "implicit",
      "not modelled / intractable",
      "tests: TaxonomyTests.Implicit_models_expose_no_density" ]

let run (ctx: Context) =
    let models = Taxonomy.Models()
    let inColumn kind = [ for struct (t, f) in models do if f.Likelihood = kind then t, f ]
    let objective kind = String.Join("; ", inColumn kind |> List.map (fun (_, f) -> f.Objective) |> List.distinct)
    let examples kind =
        String.Join("; ", inColumn kind |> List.groupBy (fun (_, f) -> f.Family) |> List.map (fun (fam, ts) -> sprintf "%s (%s)" fam (String.Join(", ", ts |> List.map (fun (t, _) -> t.Name)))))
    let densityApi kind =
        String.Join("; ", inColumn kind |> List.map (fun (t, _) -> let m = Taxonomy.DensityMembers t in sprintf "%s: %s" t.Name (if m.Count = 0 then "none" else String.Join(", ", m))))
    let header = "" :: [ for (_, name, _, _) in columns -> name ]
    let rows =
        [ "likelihood" :: [ for (_, _, l, _) in columns -> l ]
          "objective" :: [ for (k, _, _, _) in columns -> objective k ]
          "examples (model classes)" :: [ for (k, _, _, _) in columns -> examples k ]
          "density API found by reflection" :: [ for (k, _, _, _) in columns -> densityApi k ]
          "backed by" :: [ for (_, _, _, t) in columns -> t ] ]
    ctx.WriteTextCsv("taxonomy.csv", header, rows)
    let notes =
        [ for struct (t, f) in models do
              match f.Note with
              | null -> ()
              | n -> yield sprintf "%s (%s): %s" f.Family t.Name n
          yield "autoregressive models: the toolkit has none, so the exact column lists flows only" ]
    ctx.WriteText("notes.txt", String.Join("\n", notes) + "\n")
    for (k, _, _, _) in columns do
        ctx.Record(sprintf "classes_%s" (string k), String.Join(",", inColumn k |> List.map (fun (t, _) -> t.Name)))
    ctx.Record("unnormalised_classes", String.Join(",", inColumn LikelihoodKind.ExplicitUnnormalised |> List.map (fun (t, _) -> t.Name)))
    ctx.Record("implicit_density_members", inColumn LikelihoodKind.Implicit |> List.sumBy (fun (t, _) -> (Taxonomy.DensityMembers t).Count))
    ctx.SaveFigure(
        "fig06_taxonomy",
        Figure.single
            "FIG-06 · explicit vs implicit models, generated from the model classes' metadata"
            (Panel.create (String.Join(" · ", notes)) "" "" [ Trace.table header (List.transpose rows) |> Trace.set "columnwidth" [| 0.9; 2.0; 2.0; 1.6 |] ])
        |> Figure.size 1400 700
    )

let experiment =
    { Name = "fig06-taxonomy"
      Ids = [ "FIG-06"; "NF-02"; "VAE-01"; "DDPM-04" ]
      Title = "explicit / implicit taxonomy generated from the model classes' metadata, each cell backed by a property test"
      InDefault = true
      Run = run }
