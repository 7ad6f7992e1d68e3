/// The image experiments at small size, in one results root so that the classifier and the trained model are
/// made once and shared, as in `./run.sh main`.
module Research.Experiments.Tests.ImageExperimentTests

open System
open System.IO
open System.Text.Json.Nodes
open Xunit
open Research.Experiments
open Research.Experiments.Tests.Support

/// One run of fashion-diffusion, fig12-ddpm-strip and cfg-sweep at test size, shared by the tests below.
type ImageRuns() =
    let root = tempRoot ()
    let sizes =
        [ "classifier_epochs", "1"; "steps", "400"; "samples", "200"; "sample_steps", "12"; "guidance", "2"; "bpd_images", "2" ]
    let run name =
        let options = { RunOptions.defaults with ResultsRoot = root; Render = false; Quiet = true; Params = Map.ofList sizes }
        let e = (Registry.find name).Head
        Experiment.run options e |> ignore
        JsonNode.Parse(File.ReadAllText(Path.Combine(root, e.Name, "summary.json"))).AsObject()
    let fashion = lazy (run "fashion-diffusion")
    let strip = lazy (run "fig12-ddpm-strip")
    member _.Fashion = fashion.Value
    member _.Strip = strip.Value
    interface IDisposable with
        member _.Dispose() = try Directory.Delete(root, true) with _ -> ()

type ImageExperimentTests(runs: ImageRuns) =
    interface IClassFixture<ImageRuns>

    [<Fact>]
    member _.``fashion-diffusion: the classifier learns, and a briefly trained model is far closer to the data than noise``() =
        let s = runs.Fashion
        // 1 epoch at test size (the cached full classifier: 91.7%).
        num s "classifier_accuracy" |> above "classifier_accuracy" 0.85
        // Reference points: train against test is tiny, uniform noise against test is large.
        num s "fd_train_test" |> below "fd_train_test" 2.0
        num s "fd_noise_test" |> above "fd_noise_test" 200.0
        num s "fd" |> below "fd (400 steps) vs fd_noise_test / 3" (num s "fd_noise_test" / 3.0)
        // Guided samples of 200 (20 per class): chance is 0.1 with SE 0.02; require far above it.
        num s "class_consistency" |> above "class_consistency" 0.3
        num s "precision" |> above "precision" 0.1
        // An untrained model scores about 14 bits/dim in both bounds; a trained one far less.
        num s "bpd_pf_ode" |> below "bpd_pf_ode" 8.0
        num s "bpd_ddpm_elbo" |> below "bpd_ddpm_elbo" 8.0
        num s "bpd_ddpm_elbo" |> above "bpd_ddpm_elbo" 0.0

    [<Fact>]
    member _.``fig12-ddpm-strip: the linear table ends at alpha-bar 4.0358e-5 and the forward strip reaches unit noise``() =
        let s = runs.Strip
        num s "alpha_bar_1000" |> close "alpha_bar_1000" 4.0358e-5 5e-10
        // 784 pixels of nearly pure N(0, 1): the sample sd is 1 within 5 SE (SE = 1/sqrt(2·784) = 0.025).
        num s "forward_std_at_1000" |> close "forward_std_at_1000" 1.0 0.13
        // 10 guided reverse samples, one per class: chance would classify 1 of them as conditioned.
        num s "reverse_class_consistency" |> above "reverse_class_consistency" 0.3
