// edgeav Android demo: `core` is pure Kotlin (tested on the host without Gradle: tools/host-test.sh),
// `app` is the CameraX + AudioRecord shell around it.
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "edgeav-android-demo"
include(":core", ":app")
