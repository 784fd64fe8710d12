"""The catalog of published, openly licensed detectors the platform can install by name.

Each entry says what the detector is (network, training data, licence, citation), where its
files are published (upstream address, size, sha256 where known) and the facts its model card
needs (framing, preprocessing, label convention, published numbers). `manage.py install_model
NAME` downloads the files, converts them to the platform's Keras format and installs them; see
docs/models.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ml.errors import ModelError

MESONET_COMMIT = "2144d56a30e48cdcac1976ff13a1c5cdc86376c6"
MESONET_URL = f"https://github.com/DariusAf/MesoNet/raw/{MESONET_COMMIT}/weights/"
MESONET_CITATION = (
    "D. Afchar, V. Nozick, J. Yamagishi, I. Echizen, “MesoNet: a Compact Facial Video "
    "Forgery Detection Network”, IEEE WIFS 2018, arXiv:1809.00888"
)
# The authors' own cut (their pipeline.py): a nose-centred square of 2.2 × 1.3 times the larger
# eye distance, the frame mirrored past its edge (their get_image_slice pads with "reflect").
MESONET_FRAMING = {"kind": "eyes_mouth", "scale": 2.86, "pad": "reflect"}

# What a card says until `manage.py evaluate_model` has measured the model here.
NOT_EVALUATED = "not evaluated on platform data"

DFDC_TAG = "0.0.1"
DFDC_URL = f"https://github.com/selimsef/dfdc_deepfake_challenge/releases/download/{DFDC_TAG}/"
DFDC_CITATION = (
    "Selim Seferbekov, “DFDC 1st place solution” (Deepfake Detection Challenge, 2020), "
    "https://github.com/selimsef/dfdc_deepfake_challenge"
)
DFDC_SIZE = 267 * 10**6  # per checkpoint, approximate: the release does not publish sizes
DFDC_CHECKPOINTS = (
    ("111", "36"),
    ("555", "19"),
    ("777", "29"),
    ("777", "31"),
    ("888", "37"),
    ("888", "40"),
    ("999", "23"),
)

# The authors' crops (kernel_utils.py): facenet-pytorch MTCNN boxes, thresholds 0.7/0.8/0.8, on
# the frame halved; a third of the box's width and height on each side (ml/faces/mtcnn_boxes.py).
DFDC_FRAMING = {"kind": "box", "margin": 1 / 3, "detector": "mtcnn"}
# Measured by benchmarks/mtcnn_reference.py (docs/models.md, "Framing").
DFDC_FRAMING_NOTE = (
    "MTCNN boxes from the mtcnn package (1.0.0, TensorFlow), not the authors' facenet-pytorch: "
    "on the same frames both found the same 178 faces (astronaut photo: 13; GRID clips: 165), "
    "box IoU mean 0.90 and 0.93 (min 0.82), corners 2.2 and 2.5 px apart on average (at most "
    "21 px), about 1-2 % of the box up and left, the same size within 1 %. Where MTCNN finds no "
    "face the box is estimated from dlib's landmarks and the crop marked approximate."
)

# The one checkpoint of `dfdc-b7-single`. The authors published no per-checkpoint validation
# numbers (README, release 0.0.1), so none can rank the seven.
DFDC_SINGLE = ("111", "36")
DFDC_SINGLE_CHOICE = (
    "final_111_..._36: the run the authors' train.sh executes (seed 111; the other four seeds "
    "are commented out there). The authors published no per-checkpoint validation numbers, "
    "so none ranks the seven; this one is not known to be the best of them."
)
DFDC_SINGLE_METRICS = {
    "source": "DFDC final results (Kaggle, 2020), of the seven-member ensemble, not of this "
    "member alone (no per-member numbers were published)",
    "ensemble_private_leaderboard_log_loss": 0.4279,
    "ensemble_black_box_accuracy": 0.6518,
}


COMMFOR_URL = "https://huggingface.co/OwensLab/commfor-model-384/resolve/main/model.safetensors"
COMMFOR_CITATION = (
    "J. Park, A. Owens, “Community Forensics: Using Thousands of Generators to Train Fake Image "
    "Detectors”, CVPR 2025, pp. 8245-8257, arXiv:2411.04125"
)
COMMFOR_SIZE = 88 * 10**6  # approximate: 22 M float32 parameters; the Hub lists no checksum here

UFD_COMMIT = "763391eff3284f6950ffb323599c1a7a819f2ecd"
UFD_FC_URL = (
    f"https://github.com/WisconsinAIVision/UniversalFakeDetect/raw/{UFD_COMMIT}/"
    "pretrained_weights/fc_weights.pth"
)
UFD_FC_SIZE = 4 * 10**3  # approximate: a Linear(768, 1) saved by torch.save
# OpenAI's published checkpoint (CLIP's clip.py `_MODELS`); the folder name is its sha256,
# which clip.load checks too.
CLIP_L14_SHA256 = "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836"
CLIP_L14_URL = f"https://openaipublic.azureedge.net/clip/models/{CLIP_L14_SHA256}/ViT-L-14.pt"
CLIP_L14_SIZE = 890 * 2**20  # approximate: 428 M parameters, mostly float16
UFD_CITATION = (
    "U. Ojha, Y. Li, Y. J. Lee, “Towards Universal Fake Image Detectors that Generalize Across "
    "Generative Models”, CVPR 2023, pp. 24480-24489, arXiv:2302.10174; the backbone: A. Radford "
    "et al., “Learning Transferable Visual Models From Natural Language Supervision” (CLIP), "
    "ICML 2021, arXiv:2103.00020"
)


@dataclass(frozen=True)
class CatalogFile:
    filename: str
    url: str
    size: int  # bytes; exact when sha256 is known, approximate otherwise
    sha256: str | None = None
    model_name: str = ""  # the installed model this file becomes


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    network: str
    arch: str
    training_data: str
    licence: str
    citation: str
    source: str  # the repository and the commit or tag the files come from
    converter: str  # how a file becomes NAME.keras: a name in ml.models.convert.CONVERTERS
    version: str
    files: tuple[CatalogFile, ...]
    card: dict[str, Any] = field(default_factory=dict)  # facts copied onto every card
    summary: str = ""

    @property
    def download_size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def size_is_exact(self) -> bool:
        return all(f.sha256 for f in self.files)

    @property
    def ensemble(self) -> bool:
        return len(self.files) > 1

    @property
    def models(self) -> dict[str, tuple[CatalogFile, ...]]:
        """Installed model name → the files it is converted from (several files may make one
        model: a backbone and a head)."""
        out: dict[str, tuple[CatalogFile, ...]] = {}
        for file in self.files:
            out[file.model_name] = (*out.get(file.model_name, ()), file)
        return out


# Evidence about each network beyond its authors' own data (docs/verdict.md, "What a model may
# say"); an AUC of None means none was found in a source checked here.
DEEPFAKEBENCH = (
    "DeepfakeBench (Yan et al., NeurIPS 2023 Datasets and Benchmarks; github SCLBD/DeepfakeBench), "
    "frame AUC of Meso-4 retrained on FaceForensics++ c23: the architecture, not these weights"
)
MESO4_CROSS_DATASET = (
    {"dataset": "Celeb-DF v2", "auc": 0.61, "source": DEEPFAKEBENCH},
    {"dataset": "DFDC", "auc": 0.56, "source": DEEPFAKEBENCH},
)
MESOINCEPTION_CROSS_DATASET = (
    {
        "dataset": "Celeb-DF v2, DFDC",
        "auc": None,
        "source": "no published cross-dataset AUC of MesoInception-4 was checked here",
    },
)


def _mesonet_reliability(*, inception: bool, data: str) -> dict[str, Any]:
    detected = "more than 98 % of videos" if data == DEEPFAKE_DATA else "95 % of videos"
    return {
        "in_domain": [
            {
                "dataset": data,
                "auc": None,
                "detected": detected,
                "source": "Afchar et al. 2018 (arXiv:1809.00888): detection rates, no AUC",
            }
        ],
        "cross_dataset": list(MESOINCEPTION_CROSS_DATASET if inception else MESO4_CROSS_DATASET),
    }


DFDC_RELIABILITY = {
    "in_domain": [
        {
            "dataset": "DFDC private test set",
            "auc": None,
            "log_loss": 0.4279,
            "source": "DFDC final results (Kaggle, 2020): log-loss, no AUC",
        }
    ],
    "cross_dataset": [
        {
            "dataset": "DFDC black-box set (videos unlike the training data)",
            "auc": None,
            "accuracy": 0.6518,
            "source": "DFDC final results (Kaggle, 2020): accuracy, no AUC",
        }
    ],
}


def _dfdc(
    name: str,
    checkpoints: tuple[tuple[str, str], ...],
    *,
    network: str,
    summary: str,
    model_name: str | None = None,
    card: dict[str, Any] | None = None,
) -> CatalogEntry:
    """The DFDC winner's B7 checkpoints (seed, epoch) as one entry, each file a model named
    dfdc-b7-SEED-EPOCH (or `model_name` for a single file)."""
    prefix = "final_{}_DeepFakeClassifier_tf_efficientnet_b7_ns_0_{}"
    return CatalogEntry(
        name=name,
        network=network,
        arch="efficientnet_b7",
        training_data=(
            "the DFDC training set (Deepfake Detection Challenge, about 100k clips), "
            "from ImageNet / Noisy Student weights"
        ),
        licence="MIT",
        citation=DFDC_CITATION,
        source=f"selimsef/dfdc_deepfake_challenge release {DFDC_TAG}",
        converter="dfdc",
        version=DFDC_TAG,
        files=tuple(
            CatalogFile(
                prefix.format(seed, epoch),
                DFDC_URL + prefix.format(seed, epoch),
                DFDC_SIZE,
                None,
                model_name or f"dfdc-b7-{seed}-{epoch}",
            )
            for seed, epoch in checkpoints
        ),
        card={
            "compute": "gpu_recommended",
            "framing": DFDC_FRAMING,
            "framing_note": DFDC_FRAMING_NOTE,
            "published_metrics": {
                "source": "DFDC final results (Kaggle, 2020)",
                "private_leaderboard_log_loss": 0.4279,
                "black_box_accuracy": 0.6518,
            },
            "reliability": DFDC_RELIABILITY,
            **(card or {}),
        },
        summary=summary,
    )


def _mesonet(
    name: str, filename: str, sha256: str, size: int, *, inception: bool, data: str
) -> CatalogEntry:
    network = "MesoInception-4" if inception else "Meso-4"
    return CatalogEntry(
        name=name,
        network=network,
        arch="mesoinception4" if inception else "meso4",
        training_data=data,
        licence="Apache-2.0",
        citation=MESONET_CITATION,
        source=f"DariusAf/MesoNet@{MESONET_COMMIT}",
        converter="mesonet",
        version=MESONET_COMMIT[:7],
        files=(CatalogFile(filename, MESONET_URL + filename, size, sha256, name),),
        card={
            "input_size": 256,
            "preprocessing": "unit",
            "framing": MESONET_FRAMING,
            "compute": "cpu",
            "published_metrics": {
                "source": "Afchar et al. 2018 (arXiv:1809.00888), on the authors' data",
                "deepfake_videos_detected": "more than 98 %",
                "face2face_videos_detected": "95 %",
            },
            "reliability": _mesonet_reliability(inception=inception, data=data),
        },
        summary=(
            "small 2018 network (~28k weights): fast on a CPU, but it misses modern face swaps"
        ),
    )


COMMFOR_CARD = {
    "kind": "image",
    "short_name": "Community Forensics",
    "compute": "cpu",
    "threshold_source": "the authors' sigmoid midpoint (0.5): not calibrated on platform data",
    "label_convention": "one logit; sigmoid = P(generated), 1 = AI-generated (authors' models.py)",
    "published_metrics": {
        "source": "Park & Owens, CVPR 2025 (arXiv:2411.04125): AP and accuracy per test "
        "generator in the paper's tables; not transcribed here, read them there",
        "example": "the authors' notebook scores five DALL-E 2 images 0.786-0.999",
    },
    "reliability": {
        "in_domain": [
            {
                "dataset": "Community Forensics evaluation set (generators unseen in training)",
                "auc": None,
                "source": "Park & Owens 2025: AP and accuracy, no AUC checked here",
            }
        ],
        "cross_dataset": [],
    },
    "caveats": (
        "detectors of generated images lose accuracy after heavy JPEG recompression or "
        "resizing, and on generators unlike their training data"
    ),
}

UFD_CARD = {
    "kind": "image",
    "short_name": "UniversalFakeDetect",
    # ViT-L/14: seconds per image on a 2-core CPU (docs/performance.md).
    "compute": "gpu_recommended",
    "threshold_source": "the authors' sigmoid midpoint (0.5, validate.py's accuracy at 0.5): "
    "not calibrated on platform data",
    "label_convention": "one logit; sigmoid = P(fake), 1 = generated (validate.py: 0_real, 1_fake)",
    "published_metrics": {
        "source": "Ojha, Li & Lee, CVPR 2023 (arXiv:2302.10174): average precision and "
        "accuracy per test generator (trained on ProGAN images only) in the paper's tables, "
        "rows of the CLIP ViT-L/14 linear probe; not transcribed here, read them there",
        "abstract": "CLIP-feature detection improves on the earlier state of the art by +15.07 mAP "
        "and +25.90 % accuracy on unseen diffusion and autoregressive models (nearest-neighbour "
        "variant)",
    },
    "reliability": {
        "in_domain": [
            {
                "dataset": "the authors' test set: ProGAN and 18 other GAN, diffusion and "
                "autoregressive generators",
                "auc": None,
                "source": "Ojha et al. 2023: AP and accuracy, no AUC checked here",
            }
        ],
        "cross_dataset": [],
    },
    "caveats": (
        "CLIP-based detectors lose accuracy after heavy JPEG recompression or resizing; the "
        "network sees only the centred 224 px square of the image as it is (the authors' "
        "transform), so a large photo is judged by a small part of it; trained on ProGAN "
        "images only"
    ),
}

DEEPFAKE_DATA = (
    "the authors' Deepfake dataset: faces from deepfake videos found online and real faces "
    "(Afchar et al. 2018)"
)
FACE2FACE_DATA = "Face2Face faces from FaceForensics (Rössler et al. 2018)"

CATALOG: dict[str, CatalogEntry] = {
    entry.name: entry
    for entry in (
        _mesonet(
            "meso4-df",
            "Meso4_DF.h5",
            "036ed30d04ffd9c7506f825b97c86aa64915f5818931da96817b169aad790af5",
            156128,
            inception=False,
            data=DEEPFAKE_DATA,
        ),
        _mesonet(
            "meso4-f2f",
            "Meso4_F2F.h5",
            "bcfda015d217b9f8d6557693edbdf9f4e79cfd22672541968dd0e2954462b5d7",
            156128,
            inception=False,
            data=FACE2FACE_DATA,
        ),
        _mesonet(
            "mesoinception4-df",
            "MesoInception_DF.h5",
            "234586d40058e76ef8b6f27ca4b63c06e31c2a5a69c0d8ba6f30b1468ab7bafa",
            197504,
            inception=True,
            data=DEEPFAKE_DATA,
        ),
        _mesonet(
            "mesoinception4-f2f",
            "MesoInception_F2F.h5",
            "d4533ac8a3197dc35c47405d23d99e888c1d0135e267e03540c7451feaccff3f",
            197504,
            inception=True,
            data=FACE2FACE_DATA,
        ),
        _dfdc(
            "dfdc-b7",
            DFDC_CHECKPOINTS,
            network="7 x EfficientNet-B7 (ensemble)",
            summary=(
                "DFDC winner, 7 EfficientNet-B7: strong on modern face swaps, "
                "heavy on a CPU (GPU recommended)"
            ),
        ),
        _dfdc(
            "dfdc-b7-single",
            (DFDC_SINGLE,),
            network="EfficientNet-B7 (one of the DFDC winner's seven)",
            summary=(
                "one of the DFDC winner's seven B7s: a seventh of the ensemble's time and "
                "memory, without the ensemble's averaging"
            ),
            model_name="dfdc-b7-single",
            card={"member_choice": DFDC_SINGLE_CHOICE, "published_metrics": DFDC_SINGLE_METRICS},
        ),
        CatalogEntry(
            name="commfor-vit-s-384",
            network="Community Forensics ViT-S/16 at 384 px (whole-image detector)",
            arch="vit_small_patch16",
            training_data=(
                "Community Forensics: 2.7 M images from 4,803 image generators and real photos "
                "(Park & Owens 2025), from timm's ImageNet-21k/1k ViT-S weights"
            ),
            licence="MIT",
            citation=COMMFOR_CITATION,
            source="Hugging Face OwensLab/commfor-model-384 (code: JeongsooP/Community-Forensics)",
            converter="commfor",
            version="384-v11",
            files=(
                CatalogFile(
                    "commfor-model-384.safetensors",
                    COMMFOR_URL,
                    COMMFOR_SIZE,
                    None,
                    "commfor-vit-s-384",
                ),
            ),
            card=COMMFOR_CARD,
            summary=(
                "scores the whole image for AI generation (diffusion, GAN, ...), faces or not; "
                "weaker on heavily recompressed or resized images"
            ),
        ),
        CatalogEntry(
            name="ufd-clip-vit-l14",
            network="UniversalFakeDetect: frozen CLIP ViT-L/14 and a linear head (whole-image "
            "detector)",
            arch="clip_vit_l14_ufd",
            training_data=(
                "the head: ProGAN real/fake images of Wang et al. 2020 (CNNDetection); the "
                "backbone: OpenAI CLIP, 400 M image-text pairs, never tuned for this task"
            ),
            licence="MIT (UFD code and head; OpenAI CLIP code and weights)",
            citation=UFD_CITATION,
            source=f"WisconsinAIVision/UniversalFakeDetect@{UFD_COMMIT[:7]} and OpenAI CLIP "
            "ViT-L/14",
            converter="ufd",
            version=f"l14-{UFD_COMMIT[:7]}",
            files=(
                CatalogFile(
                    "ViT-L-14.pt", CLIP_L14_URL, CLIP_L14_SIZE, CLIP_L14_SHA256, "ufd-clip-vit-l14"
                ),
                CatalogFile("fc_weights.pth", UFD_FC_URL, UFD_FC_SIZE, None, "ufd-clip-vit-l14"),
            ),
            card=UFD_CARD,
            summary=(
                "scores the centre of the image for AI generation with CLIP features; "
                "generalises across GANs and diffusion models, weaker after heavy JPEG "
                "recompression or resizing; heavy on a CPU (300 M weights)"
            ),
        ),
    )
}


def catalog_entry(name: str) -> CatalogEntry:
    if name not in CATALOG:
        raise ModelError(
            f"No published detector is called {name!r}; choose one of {', '.join(CATALOG)}."
        )
    return CATALOG[name]


def human_size(size: int, *, exact: bool = True) -> str:
    """Bytes in the unit a person reads: 156 kB, 1.9 GB (with "about" when approximate)."""
    value, unit = float(size), "B"
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            break
        value /= 1000
    text = f"{value:.0f} {unit}" if value >= 10 or unit == "B" else f"{value:.1f} {unit}"
    return text if exact else f"about {text}"


def catalog_card(entry: CatalogEntry, file: CatalogFile) -> dict[str, Any]:
    """The card facts of one installed file, before conversion adds its own."""
    return {
        "name": file.model_name,
        "version": entry.version,
        "kind": "frame",
        "arch": entry.arch,
        # The authors' sigmoid midpoint: not tuned on platform data.
        "threshold": 0.5,
        "family": entry.name,
        "network": entry.network,
        "licence": entry.licence,
        "citation": entry.citation,
        "training_data": entry.training_data,
        "source": {
            "repository": entry.source,
            "url": file.url,
            "file": file.filename,
            "sha256": file.sha256 or "not published",
        },
        "platform_evaluation": NOT_EVALUATED,
        **entry.card,
    }
