<?php

return [
    Symfony\Bundle\FrameworkBundle\FrameworkBundle::class => ['all' => true],
    Ephpm\Bundle\EphpmBundle::class => ['all' => true],
];
