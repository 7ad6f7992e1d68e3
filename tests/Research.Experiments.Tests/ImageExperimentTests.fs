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
        [ "classifier_epochs", "1"; "steps", "400"; "samples", "200"; "sample_steps", "12"; "guidance", "2"; "bpd_images", "2"
          // fig05-summary: the diffusion row reuses fashion-diffusion's model (same steps); the rest is tiny.
          "diffusion_steps", "400"; "vae_steps", "150"; "vae_width", "8"; "flow_steps", "60"; "flow_hidden", "8"
          "gan_steps", "300"; "gan_width", "8"; "seeds", "2"; "tiny_steps", "30"; "tiny_samples", "100"
          "ancestral_samples", "1"; "diffusion_bpd_images", "1"; "bpd_test_images", "16"; "iwae_k", "20" ]
    let runWith name (extra: (string * string) list) =
        let options = { RunOptions.defaults with ResultsRoot = root; Render = false; Quiet = true; Params = Map.ofList (sizes @ extra) }
        let e = (Registry.find name).Head
        Experiment.run options e |> ignore
        JsonNode.Parse(File.ReadAllText(Path.Combine(root, e.Name, "summary.json"))).AsObject()
    let run name = runWith name []
    let fashion = lazy (run "fashion-diffusion")
    let strip = lazy (run "fig12-ddpm-strip")
    let summary = lazy (fashion.Force() |> ignore; run "fig05-summary")
    // dcgan-fashion at fig05's GAN size, so it scores the DCGAN fig05-summary trained (results/models), not a second one.
    let dcgan = lazy (summary.Force() |> ignore; runWith "dcgan-fashion" [ "steps", "300"; "width", "8" ])
    member _.Fashion = fashion.Value
    member _.Strip = strip.Value
    member _.Summary = summary.Value
    member _.Dcgan = dcgan.Value
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

    [<Fact>]
    member _.``fig05-summary: four rows with their likelihoods, no density for the GAN, one network evaluation per sample except diffusion``() =
        let s = runs.Summary
        // An untrained model scores far above 8 bits/dim in every bound (≈ 14 for the diffusion model); trained ones below.
        num s "flow_bpd_exact" |> below "flow_bpd_exact" 8.0
        num s "vae_bpd_elbo" |> below "vae_bpd_elbo" 8.0
        num s "diffusion_bpd_ddpm_elbo" |> below "diffusion_bpd_ddpm_elbo" 8.0
        num s "diffusion_bpd_pf_ode" |> below "diffusion_bpd_pf_ode" 8.0
        // IWAE_k is a tighter bound than the ELBO (fewer bits), up to Monte Carlo noise on 16 images.
        num s "vae_bpd_iwae_20" |> below "vae_bpd_iwae_20" (num s "vae_bpd_elbo" + 0.05)
        // The GAN has no likelihood: no bits/dim key at all.
        Assert.DoesNotContain(s |> Seq.map (fun kv -> kv.Key), (fun (k: string) -> k.StartsWith "gan_bpd"))
        for f in [ "vae"; "flow"; "gan" ] do
            num s (f + "_nfe") |> close (f + "_nfe") 1.0 0.0
        num s "diffusion_nfe" |> close "diffusion_nfe" 12.0 0.0
        num s "diffusion_ancestral_nfe" |> close "diffusion_ancestral_nfe" 1000.0 0.0
        num s "diffusion_ancestral_ms_per_sample" |> above "ancestral ms/sample vs the GAN's x 100" (100.0 * num s "gan_ms_per_sample")
        for f in [ "vae"; "diffusion"; "flow"; "gan" ] do
            num s (f + "_fd") |> below (f + "_fd vs the noise reference") (num s "fd_noise_test")
            num s (f + "_tiny_fd_sd") |> above (f + "_tiny_fd_sd") 0.0
            Assert.Equal(4, s.[f + "_marks_measured"].GetValue<string>().Length)
        Assert.Equal("××○○", s.["gan_marks_slides"].GetValue<string>())
        Assert.StartsWith("×", s.["gan_marks_measured"].GetValue<string>())
        num s "marks_total" |> close "marks_total" 16.0 0.0

    [<Fact>]
    member _.``dcgan-fashion: the tiny DCGAN does not diverge and its samples are far closer to the data than noise``() =
        let s = runs.Dcgan
        Assert.False(flag s "diverged")
        Assert.False(flag s "discriminator_won")
        num s "generator_parameters" |> above "generator_parameters" 1.0
        // 300 steps at width 8 (fig05-summary's GAN; measured FD 307 against the noise's 755, D accuracy 0.63; at 100 steps
        // FD is still 630 and D near 0.98): FD far below the noise reference, and finite by the comparison.
        num s "fd" |> below "fd vs fd_noise_test / 2" (num s "fd_noise_test" / 2.0)
        num s "fd" |> above "fd" 0.0
        for k in [ "precision"; "recall"; "d_accuracy_final" ] do
            num s k |> above k 0.0
            num s k |> below k 1.0
        num s "nfe_per_sample" |> close "nfe_per_sample" 1.0 0.0
